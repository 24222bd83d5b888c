import { describeWithPostgres } from '../test-support/postgres-suite';
import { createPgClient } from './sql-client';
import { createSqlTaskLedger } from './sql-task-ledger';
import { taskLedgerContract } from '../test-support/task-ledger-contract';

describeWithPostgres('task ledger on a PostgreSQL server', (database) => {
  taskLedgerContract(async () => createSqlTaskLedger(await createPgClient(database())));
});
