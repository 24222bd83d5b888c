/** Luhn checksum over the digits of `value` (separators ignored). */
export function luhnValid(value: string): boolean {
  let sum = 0;
  let double = false;
  let digits = 0;
  for (let i = value.length - 1; i >= 0; i--) {
    const c = value.charCodeAt(i) - 48;
    if (c < 0 || c > 9) continue;
    digits++;
    let d = c;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return digits > 0 && sum % 10 === 0;
}

/** A plausible payment card: 13–19 digits, a known issuer prefix and a valid Luhn checksum. */
export function paymentCardValid(value: string): boolean {
  const digits = value.replace(/[ -]/g, '');
  if (digits.length < 13 || digits.length > 19) return false;
  if (!issuerLengthOk(digits)) return false;
  if (/^(\d)\1+$/.test(digits)) return false;
  return luhnValid(digits);
}

/** Issuer prefixes and the lengths they issue (13-digit Visa is retired and looks like a ms timestamp). */
function issuerLengthOk(d: string): boolean {
  const n = d.length;
  if (d[0] === '4') return n === 16 || n === 19;
  if (/^(?:5[1-5]|2[2-7])/.test(d)) return n === 16;
  if (/^3[47]/.test(d)) return n === 15;
  if (/^(?:6011|65|64[4-9]|35)/.test(d)) return n >= 16;
  if (/^3[068]/.test(d)) return n >= 14;
  return false;
}
