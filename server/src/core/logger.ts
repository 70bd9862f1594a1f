import { pino, type Logger as PinoLogger, type LevelWithSilent, type DestinationStream } from 'pino';

export type Logger = PinoLogger;

/**
 * Structured JSON logs on stdout: journald captures them under the unit, and
 * `journalctl -u proximity -o cat | jq` reads them back.
 */
export function createLogger(level: LevelWithSilent, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'proximity' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: {
        paths: ['req.headers.cookie', 'req.headers.authorization', 'req.headers.csrfpreventiontoken'],
        censor: '[redacted]',
      },
    },
    destination,
  );
}
