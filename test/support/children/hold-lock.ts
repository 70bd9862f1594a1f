// Child process for the locked-database test: holds a write lock on a SQLite file
// until killed, as another program (or a stuck sqlite3 shell) would.
import Sqlite from 'better-sqlite3';

const db = new Sqlite(process.argv[2]!);
db.exec('BEGIN EXCLUSIVE');
process.stdout.write('locked\n');
setInterval(() => {}, 1000);
