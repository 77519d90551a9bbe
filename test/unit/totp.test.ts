import { test, describe } from 'node:test'
import assert from 'node:assert/strict'
import * as OTPAuth from 'otpauth'
import {
  encodeBase32,
  isTotpCodeFormat,
  matchTotpStep,
  newTotpSecret,
  otpauthUri,
  totpCodeAt,
  totpDigits,
  totpPeriodSeconds,
  totpStep,
} from '../../src/domain/totp.js'

const rfcSecret = new Uint8Array(Buffer.from('12345678901234567890', 'ascii'))

// RFC 6238 Appendix B, SHA-1 column (8 digits); our 6-digit codes are the last six.
const rfcVectors: ReadonlyArray<readonly [seconds: number, code8: string]> = [
  [59, '94287082'],
  [1111111109, '07081804'],
  [1111111111, '14050471'],
  [1234567890, '89005924'],
  [2000000000, '69279037'],
  [20000000000, '65353130'],
]

function independentCode(secret: Uint8Array, timestampMs: number): string {
  return OTPAuth.TOTP.generate({
    secret: new OTPAuth.Secret({ buffer: secret.slice().buffer }),
    algorithm: 'SHA1',
    digits: 6,
    period: 30,
    timestamp: timestampMs,
  })
}

describe('TOTP codes', () => {
  test('parameters', () => {
    assert.equal(totpPeriodSeconds, 30)
    assert.equal(totpDigits, 6)
  })

  for (const [seconds, code8] of rfcVectors) {
    test(`RFC 6238 vector at T=${seconds}`, () => {
      const nowMs = seconds * 1000
      const step = totpStep(nowMs)
      assert.equal(step, Math.floor(seconds / 30))
      assert.equal(totpCodeAt(rfcSecret, step), code8.slice(-6))
      assert.equal(matchTotpStep(rfcSecret, code8.slice(-6), nowMs), step)
    })
  }

  test('totpStep boundaries', () => {
    assert.equal(totpStep(0), 0)
    assert.equal(totpStep(29_999), 0)
    assert.equal(totpStep(30_000), 1)
    assert.equal(totpStep(59_999), 1)
    assert.equal(totpStep(1_111_111_109_000), 37_037_036)
  })

  test('codes agree with the independent otpauth implementation', () => {
    for (let i = 0; i < 50; i++) {
      const secret = newTotpSecret()
      const nowMs = 1_700_000_000_000 + i * 7_919_000
      const code = totpCodeAt(secret, totpStep(nowMs))
      assert.match(code, /^[0-9]{6}$/)
      assert.equal(code, independentCode(secret, nowMs))
    }
  })

  test('codes are zero-padded to six digits', () => {
    // At T=1111111109 the RFC code is 07081804: the six-digit code keeps its leading zero.
    assert.equal(totpCodeAt(rfcSecret, totpStep(1_111_111_109_000)), '081804')
    // Search a range of steps for codes below 100000 and check they keep six characters.
    let padded = 0
    for (let step = 0; step < 200; step++) {
      const code = totpCodeAt(rfcSecret, step)
      assert.equal(code.length, 6)
      if (code.startsWith('0')) padded++
    }
    assert.ok(padded > 0)
  })
})

describe('matchTotpStep', () => {
  const secret = new Uint8Array(Buffer.from('f3a9c1d2e4b5a6978812aabbccddeeff00112233', 'hex'))
  const nowMs = 1_700_000_015_000
  const current = totpStep(nowMs)

  test('accepts the previous, current and next step and reports which', () => {
    for (const offset of [-1, 0, 1]) {
      const step = current + offset
      assert.equal(matchTotpStep(secret, totpCodeAt(secret, step), nowMs), step)
    }
  })

  test('refuses codes two or more steps away', () => {
    for (const offset of [-3, -2, 2, 3]) {
      const code = totpCodeAt(secret, current + offset)
      // The secret is fixed, so this holds for good: the far code is no in-window code.
      const window = [-1, 0, 1].map((o) => totpCodeAt(secret, current + o))
      assert.ok(!window.includes(code))
      assert.equal(matchTotpStep(secret, code, nowMs), null, `offset ${offset}`)
    }
  })

  test('refuses a code from another secret', () => {
    const other = new Uint8Array(Buffer.from('00112233445566778899aabbccddeeff00112233', 'hex'))
    const code = totpCodeAt(other, current)
    const window = [-1, 0, 1].map((o) => totpCodeAt(secret, current + o))
    assert.ok(!window.includes(code))
    assert.equal(matchTotpStep(secret, code, nowMs), null)
  })

  test('refuses malformed codes without looking further', () => {
    const code = totpCodeAt(secret, current)
    for (const bad of [
      '',
      code.slice(1),
      code + '0',
      ` ${code}`,
      `${code} `,
      `${code}\n`,
      `${code.slice(0, 3)} ${code.slice(3)}`,
      '12345a',
      '１２３４５６', // full-width digits
      '١٢٣٤٥٦', // Arabic-Indic digits
      '+12345',
      '-12345',
      '1e5000',
    ]) {
      assert.equal(isTotpCodeFormat(bad), false, JSON.stringify(bad))
      assert.equal(matchTotpStep(secret, bad, nowMs), null, JSON.stringify(bad))
    }
    assert.equal(isTotpCodeFormat('000000'), true)
    assert.equal(isTotpCodeFormat(code), true)
  })
})

describe('secrets and URIs', () => {
  test('newTotpSecret gives 20 fresh random bytes', () => {
    const a = newTotpSecret()
    const b = newTotpSecret()
    assert.ok(a instanceof Uint8Array)
    assert.equal(a.length, 20)
    assert.notDeepEqual(a, b)
  })

  test('encodeBase32 is RFC 4648, upper case, unpadded', () => {
    // RFC 4648 §10 test vectors, padding removed.
    const vectors: ReadonlyArray<readonly [string, string]> = [
      ['', ''],
      ['f', 'MY'],
      ['fo', 'MZXQ'],
      ['foo', 'MZXW6'],
      ['foob', 'MZXW6YQ'],
      ['fooba', 'MZXW6YTB'],
      ['foobar', 'MZXW6YTBOI'],
    ]
    for (const [plain, encoded] of vectors) {
      assert.equal(encodeBase32(new Uint8Array(Buffer.from(plain, 'ascii'))), encoded)
    }
    assert.equal(encodeBase32(rfcSecret), 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ')
    const secret = newTotpSecret()
    assert.equal(encodeBase32(secret), new OTPAuth.Secret({ buffer: secret.slice().buffer }).base32)
  })

  test('otpauthUri exact string, spaces as %20', () => {
    const uri = otpauthUri({ issuer: 'Acme Cloud', login: 'jane doe+ops@example.com', secret: rfcSecret })
    assert.equal(
      uri,
      'otpauth://totp/Acme%20Cloud:jane%20doe%2Bops%40example.com' +
        '?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Acme%20Cloud&algorithm=SHA1&digits=6&period=30',
    )
    assert.ok(!uri.includes('+'))
  })

  test('otpauthUri is read back by an independent parser', () => {
    const secret = newTotpSecret()
    const parsed = OTPAuth.URI.parse(otpauthUri({ issuer: 'Acme Cloud', login: 'jane+x@example.com', secret }))
    assert.ok(parsed instanceof OTPAuth.TOTP)
    assert.equal(parsed.issuer, 'Acme Cloud')
    assert.equal(parsed.label, 'jane+x@example.com')
    assert.equal(parsed.algorithm, 'SHA1')
    assert.equal(parsed.digits, 6)
    assert.equal(parsed.period, 30)
    assert.equal(parsed.secret.base32, encodeBase32(secret))
    const nowMs = 1_750_000_000_000
    assert.equal(parsed.generate({ timestamp: nowMs }), totpCodeAt(secret, totpStep(nowMs)))
  })
})
