import { Module } from '@nestjs/common';
import { CashewsModule } from 'nestjs-cashews';
import { ProductsController } from './products.controller.js';
import { ProductsService } from './products.service.js';

@Module({
  imports: [CashewsModule.forRoot('mem://')],
  controllers: [ProductsController],
  providers: [ProductsService],
})
export class AppModule {}
