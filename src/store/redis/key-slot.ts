/** Hash slots of a Redis Cluster. */
export const slotCount = 16_384

// CRC16-XMODEM (polynomial 0x1021), the hash Redis Cluster and ioredis (cluster-key-slot) use.
const table = new Uint16Array(256)
for (let i = 0; i < 256; i++) {
  let crc = i << 8
  for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff
  table[i] = crc
}

const open = 0x7b // {
const close = 0x7d // }

/**
 * The slot of the key `prefix + key`, as Redis computes it: the CRC16 of the first non-empty
 * `{…}` hash tag, else of the whole key, over its UTF-8 bytes. ioredis routes the prefixed key,
 * so the prefix counts. Reads the two strings in place (no concatenation, no byte array), since
 * the in-process cache routes every miss through it.
 */
export function keySlot(prefix: string, key: string): number {
  const length = prefix.length + key.length
  let start = -1
  for (let i = 0; i < length; i++) {
    if (codeAt(prefix, key, i) === open) {
      start = i + 1
      break
    }
  }
  if (start >= 0) {
    for (let i = start; i < length; i++) {
      if (codeAt(prefix, key, i) !== close) continue
      if (i > start) return crc16(prefix, key, start, i) & (slotCount - 1)
      break
    }
  }
  return crc16(prefix, key, 0, length) & (slotCount - 1)
}

function codeAt(prefix: string, key: string, i: number): number {
  return i < prefix.length ? prefix.charCodeAt(i) : key.charCodeAt(i - prefix.length)
}

function step(crc: number, byte: number): number {
  return ((crc << 8) & 0xffff) ^ table[((crc >> 8) ^ byte) & 0xff]!
}

/** CRC16 of the UTF-8 encoding of UTF-16 units [from, to) of `prefix + key`, as Node writes it. */
function crc16(prefix: string, key: string, from: number, to: number): number {
  let crc = 0
  for (let i = from; i < to; i++) {
    const unit = codeAt(prefix, key, i)
    if (unit < 0x80) {
      crc = step(crc, unit)
    } else if (unit < 0x800) {
      crc = step(step(crc, 0xc0 | (unit >> 6)), 0x80 | (unit & 0x3f))
    } else if ((unit & 0xfc00) === 0xd800 && i + 1 < to && (codeAt(prefix, key, i + 1) & 0xfc00) === 0xdc00) {
      const point = 0x10000 + ((unit & 0x3ff) << 10) + (codeAt(prefix, key, ++i) & 0x3ff)
      crc = step(step(crc, 0xf0 | (point >> 18)), 0x80 | ((point >> 12) & 0x3f))
      crc = step(step(crc, 0x80 | ((point >> 6) & 0x3f)), 0x80 | (point & 0x3f))
    } else {
      // A lone surrogate goes on the wire as U+FFFD.
      const point = (unit & 0xf800) === 0xd800 ? 0xfffd : unit
      crc = step(step(step(crc, 0xe0 | (point >> 12)), 0x80 | ((point >> 6) & 0x3f)), 0x80 | (point & 0x3f))
    }
  }
  return crc
}
