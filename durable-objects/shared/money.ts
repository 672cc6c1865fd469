/**
 * Money inside the shard is an integer count of 1/10,000 units, the scale of ClickHouse's
 * Decimal(18, 4). Sums of integers are exact, so a window's revenue, its sealed parts and
 * the events table always agree to the last digit; floats would drift (0.1 + 0.2).
 */
export const MONEY_UNITS_PER_CURRENCY_UNIT = 10_000;

export function toMoneyUnits(amount: number): number {
  return Math.round(amount * MONEY_UNITS_PER_CURRENCY_UNIT);
}

/** Back to currency units; prints as the exact 4-decimal value ClickHouse parses. */
export function fromMoneyUnits(units: number): number {
  return units / MONEY_UNITS_PER_CURRENCY_UNIT;
}
