import { Injectable } from '@nestjs/common';
import { Cache } from 'nestjs-cashews';

export interface Product {
  id: number;
  at: Date;
}

@Injectable()
export class ProductsService {
  /** How many times `find` really ran (the rest were served from the cache). */
  runs = 0;

  @Cache({ ttl: '1m' })
  async find(id: number): Promise<Product> {
    this.runs++;
    return { id, at: new Date(0) };
  }
}
