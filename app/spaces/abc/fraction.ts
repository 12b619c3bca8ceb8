// Exact rational arithmetic for ABC note lengths and times (in whole notes). Used only by app/spaces/abc.

function gcd(a: number, b: number): number {
  let x = Math.abs(a);
  let y = Math.abs(b);
  while (y !== 0) [x, y] = [y, x % y];
  return x;
}

export function lcm(a: number, b: number): number {
  return (a / gcd(a, b)) * b;
}

export class Fraction {
  readonly num: number;
  readonly den: number;
  constructor(num: number, den = 1) {
    if (den === 0) throw new RangeError("fraction with denominator 0");
    const g = gcd(num, den) || 1;
    const sign = den < 0 ? -1 : 1;
    this.num = (sign * num) / g;
    this.den = (sign * den) / g;
    if (!Number.isSafeInteger(this.num) || !Number.isSafeInteger(this.den)) {
      throw new RangeError("note lengths too fine to represent exactly");
    }
  }
  static readonly ZERO = new Fraction(0);
  add(other: Fraction): Fraction {
    const g = gcd(this.den, other.den);
    return new Fraction(this.num * (other.den / g) + other.num * (this.den / g), (this.den / g) * other.den);
  }
  mul(other: Fraction): Fraction {
    const a = gcd(this.num, other.den) || 1;
    const b = gcd(other.num, this.den) || 1;
    return new Fraction((this.num / a) * (other.num / b), (this.den / b) * (other.den / a));
  }
  compare(other: Fraction): number {
    return this.num * other.den - other.num * this.den;
  }
  equals(other: Fraction): boolean {
    return this.num === other.num && this.den === other.den;
  }
  toNumber(): number {
    return this.num / this.den;
  }
}
