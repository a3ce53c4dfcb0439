/**
 * 32-bit FNV-1a over UTF-16 code units, for two jobs where speed matters more than strength:
 * spreading event ids over dedupe shards, and noticing (not deciding!) that two records with one
 * id differ. Equality of ids is always decided on the full string.
 */
export function fnv1a32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
