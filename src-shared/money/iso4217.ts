// ISO 4217 currency exponents (the number of minor-unit digits), from the ISO 4217 "List One" of active codes.
// Fiat is always held as bigint minor units; the exponent is needed only to read and show major units and to
// apply a rate quoted per major unit (dust settlement). A code not in this table is refused at the boundary.

/** Currencies whose minor unit is not 1/100 of the major unit. Every other listed code has exponent 2. */
const NON_TWO: Readonly<Record<string, number>> = {
  // exponent 0
  BIF: 0,
  CLP: 0,
  DJF: 0,
  GNF: 0,
  ISK: 0,
  JPY: 0,
  KMF: 0,
  KRW: 0,
  PYG: 0,
  RWF: 0,
  UGX: 0,
  UYI: 0,
  VND: 0,
  VUV: 0,
  XAF: 0,
  XOF: 0,
  XPF: 0,
  // exponent 3
  BHD: 3,
  IQD: 3,
  JOD: 3,
  KWD: 3,
  LYD: 3,
  OMR: 3,
  TND: 3,
  // exponent 4
  CLF: 4,
  UYW: 4,
}

/** Active ISO 4217 codes with a two-digit minor unit. */
const TWO =
  'AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BOV BRL BSD BTN BWP BYN BZD CAD CDF CHE ' +
  'CHF CHW CNY COP COU CRC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GTQ GYD HKD HNL ' +
  'HTG HUF IDR ILS INR IRR JMD KES KGS KHR KPW KYD KZT LAK LBP LKR LRD LSL MAD MDL MGA MKD MMK MNT MOP MRU MUR ' +
  'MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD PAB PEN PGK PHP PKR PLN QAR RON RSD RUB SAR SBD SCR SDG SEK ' +
  'SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TOP TRY TTD TWD TZS UAH USD USN UYU UZS VED VES WST XCD ' +
  'XCG YER ZAR ZMW ZWG'

const EXPONENTS: ReadonlyMap<string, number> = new Map<string, number>([
  ...TWO.split(' ').map((code): [string, number] => [code, 2]),
  ...Object.entries(NON_TWO),
])

/** True for an active ISO 4217 code (upper case, three letters) that this table knows. */
export function isCurrency(code: unknown): code is string {
  return typeof code === 'string' && EXPONENTS.has(code)
}

/** The number of minor-unit digits of `code`; throws a RangeError for an unknown code. */
export function currencyExponent(code: string): number {
  const e = EXPONENTS.get(code)
  if (e === undefined) throw new RangeError(`unknown ISO 4217 currency code: ${JSON.stringify(code)}`)
  return e
}

/** 10^exponent as a bigint: the number of minor units in one major unit. */
export function minorPerMajor(code: string): bigint {
  return 10n ** BigInt(currencyExponent(code))
}

/** Formats minor units as a major-unit decimal string, e.g. (200000n, 'GTQ') → "2000.00", (5n, 'JPY') → "5". */
export function formatMinor(minor: bigint, code: string): string {
  const e = currencyExponent(code)
  const negative = minor < 0n
  const digits = (negative ? -minor : minor).toString().padStart(e + 1, '0')
  const whole = e === 0 ? digits : digits.slice(0, -e)
  const frac = e === 0 ? '' : `.${digits.slice(-e)}`
  return `${negative ? '-' : ''}${whole}${frac}`
}
