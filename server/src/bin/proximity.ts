#!/usr/bin/env node
// The `proximity` command (installed as /usr/bin/proximity by the Debian package).
import { runCli } from '../cli.js';

process.exitCode = await runCli(process.argv.slice(2));
