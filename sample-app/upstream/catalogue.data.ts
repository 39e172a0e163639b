import type { ProductDto } from '../products/product.dto.js';

/** The fake upstream's data set: small enough to read, large enough to page through. */
export const PRODUCTS: readonly ProductDto[] = [
  { id: '1', name: 'Roasted cashews 250 g', category: 'nuts', description: 'Lightly salted.' },
  { id: '2', name: 'Raw cashews 1 kg', category: 'nuts', description: 'Unsalted, for baking.' },
  { id: '3', name: 'Smoked almonds 200 g', category: 'nuts', description: 'Hickory smoked.' },
  { id: '4', name: 'Pistachios 300 g', category: 'nuts', description: 'In shell, roasted.' },
  { id: '5', name: 'Macadamias 150 g', category: 'nuts', description: 'Dry roasted.' },
  { id: '6', name: 'Hazelnuts 500 g', category: 'nuts', description: 'Blanched.' },
  { id: '7', name: 'Dried mango 200 g', category: 'dried-fruit', description: 'No added sugar.' },
  { id: '8', name: 'Medjool dates 500 g', category: 'dried-fruit', description: 'Pitted.' },
  { id: '9', name: 'Dried apricots 250 g', category: 'dried-fruit', description: 'Unsulphured.' },
  { id: '10', name: 'Trail mix 400 g', category: 'mixes', description: 'Nuts, raisins, chocolate.' },
  { id: '11', name: 'Breakfast mix 750 g', category: 'mixes', description: 'Oats, nuts, seeds.' },
  { id: '12', name: 'Cashew butter 300 g', category: 'spreads', description: 'Stone ground.' },
];

/** Base prices in EUR; the upstream adds a little jitter so a recomputed price is visibly new. */
export const BASE_PRICES: Readonly<Record<string, number>> = {
  '1': 4.5,
  '2': 14.9,
  '3': 3.9,
  '4': 6.2,
  '5': 5.8,
  '6': 7.4,
  '7': 3.2,
  '8': 8.9,
  '9': 3.6,
  '10': 5.5,
  '11': 6.9,
  '12': 7.9,
};
