// Appends one line of totals per jest run to $BASTION_TEST_TOTALS, so scripts/test-all.sh can
// print one closing "N passed, N failed" line over every project, integration and failure suite.
const { appendFileSync } = require('node:fs');

class TotalsReporter {
  onRunComplete(_contexts, results) {
    const file = process.env.BASTION_TEST_TOTALS;
    if (!file) return;
    appendFileSync(
      file,
      JSON.stringify({
        passed: results.numPassedTests,
        failed: results.numFailedTests + results.numRuntimeErrorTestSuites,
        skipped: results.numPendingTests + results.numTodoTests,
      }) + '\n',
    );
  }
}
module.exports = TotalsReporter;
