/** Builds an application (Express or Fastify) with the statistics options, for the metrics and stats-page suites. */
import type { INestApplication } from '@nestjs/common';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { CashewsModule, type CashewsModuleOptions } from '../../lib/index.js';
import { CatalogueService, ItemsController } from './fixtures.js';

export type Adapter = 'express' | 'fastify';

export async function statsApp(
  adapter: Adapter,
  options: Omit<CashewsModuleOptions, 'url'>,
  url = 'mem://',
): Promise<INestApplication> {
  const moduleRef = await Test.createTestingModule({
    imports: [CashewsModule.forRoot(url, options)],
    controllers: [ItemsController],
    providers: [CatalogueService],
  }).compile();
  const app =
    adapter === 'fastify'
      ? moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), { logger: false })
      : moduleRef.createNestApplication({ logger: false });
  await app.init();
  if (adapter === 'fastify') await (app as NestFastifyApplication).getHttpAdapter().getInstance().ready();
  return app;
}

/** One parsed sample of the Prometheus text format. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)/y;

/**
 * A strict parser of the text exposition format: every sample must follow the `# HELP` and `# TYPE` of its family
 * (summary samples may add `_sum` / `_count`), label values are unescaped, values must be numbers.
 */
export function parsePrometheus(text: string): {
  samples: Sample[];
  types: Record<string, string>;
  help: Record<string, string>;
} {
  const samples: Sample[] = [];
  const types: Record<string, string> = {};
  const help: Record<string, string> = {};
  let family: string | undefined;
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const meta = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line);
    if (meta) {
      if (meta[1] === 'HELP') {
        help[meta[2]] = meta[3];
        family = meta[2];
      } else {
        if (family !== meta[2]) throw new Error(`# TYPE ${meta[2]} without its # HELP first`);
        if (!['counter', 'gauge', 'summary', 'histogram', 'untyped'].includes(meta[3]))
          throw new Error(`bad type: ${line}`);
        types[meta[2]] = meta[3];
      }
      continue;
    }
    const match = SAMPLE.exec(line);
    if (!match) throw new Error(`not a sample line: ${JSON.stringify(line)}`);
    const [, name, rawLabels, rawValue] = match;
    const base = types[name] ? name : name.replace(/_(sum|count)$/, '');
    if (base !== family || !types[base]) throw new Error(`sample ${name} outside its family (${family})`);
    const labels: Record<string, string> = {};
    if (rawLabels) {
      LABEL.lastIndex = 0;
      while (LABEL.lastIndex < rawLabels.length) {
        const label = LABEL.exec(rawLabels);
        if (!label) throw new Error(`bad labels: ${rawLabels}`);
        labels[label[1]] = label[2].replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
      }
    }
    const value = Number(rawValue.replace('+Inf', 'Infinity'));
    if (Number.isNaN(value) && rawValue !== 'NaN') throw new Error(`bad value: ${line}`);
    samples.push({ name, labels, value });
  }
  return { samples, types, help };
}

/** The value of the sample `name` whose labels include `labels`. */
export function sampleValue(samples: Sample[], name: string, labels: Record<string, string>): number | undefined {
  return samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
}
