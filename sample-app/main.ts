import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { CacheService } from '../lib/index.js';
import { AppModule } from './app.module.js';

const logger = new Logger('CatalogueApp');
const port = Number(process.env.PORT ?? 3000);

const app = await NestFactory.create(AppModule);
// SIGINT/SIGTERM run the shutdown hooks, which close the Redis connections cleanly.
app.enableShutdownHooks();
await app.listen(port);

const cache = app.get(CacheService);
logger.log(`Catalogue API listening on http://localhost:${port}`);
// displayUrl masks any password in REDIS_URL.
logger.log(`Cache backend: ${cache.backend.kind} (${cache.config.displayUrl})`);
