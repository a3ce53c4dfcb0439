/** `npm run bench [-- --quick] [--only batch|speed|serving[,...]]` */
export type SectionName = 'batch' | 'speed' | 'serving';
export const SECTIONS: readonly SectionName[] = ['speed', 'batch', 'serving'];

export interface BenchArgs {
  quick: boolean;
  only: SectionName[];
}

export function parseArgs(argv: readonly string[]): BenchArgs {
  let quick = false;
  let only: SectionName[] = [...SECTIONS];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--quick') quick = true;
    else if (a === '--only' || a.startsWith('--only=')) {
      const value = a === '--only' ? argv[++i] : a.slice('--only='.length);
      const names = (value ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      const bad = names.filter((n) => !SECTIONS.includes(n as SectionName));
      if (names.length === 0 || bad.length > 0) throw new Error(`--only takes ${SECTIONS.join('|')} (comma-separated), got ${JSON.stringify(value)}`);
      only = SECTIONS.filter((s) => names.includes(s));
    } else if (a === '--help' || a === '-h') {
      throw new Error('usage: npm run bench [-- --quick] [--only batch|speed|serving[,...]]');
    } else throw new Error(`unknown argument ${a}; usage: npm run bench [-- --quick] [--only batch|speed|serving[,...]]`);
  }
  return { quick, only };
}
