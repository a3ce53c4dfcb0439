/** Every subcommand of `lambda-arch`, in the order `--help` lists them. */
import type { Command } from '../args.js';
import { servicesCommand } from './services.js';
import { archiverCommand, batchCommand, speedCommand, serveCommand, allCommand } from './roles.js';
import { generateCommand } from './generate.js';
import { importCommand } from './import.js';
import { labCommand } from './lab.js';
import { kappaCommand } from './kappa.js';

export const COMMANDS: readonly Command[] = [
  allCommand,
  serveCommand,
  archiverCommand,
  batchCommand,
  speedCommand,
  generateCommand,
  importCommand,
  labCommand,
  kappaCommand,
  servicesCommand,
];
