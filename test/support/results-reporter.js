// Writes jest's totals to $JEST_RESULTS_FILE so .ci/run can print `N passed, N failed`.
import { writeFileSync } from 'node:fs'

export default class ResultsReporter {
  onRunComplete(_contexts, results) {
    const file = process.env.JEST_RESULTS_FILE
    if (!file) return
    const { numPassedTests, numFailedTests, numPendingTests, numTotalTests } = results
    writeFileSync(
      file,
      JSON.stringify({ numPassedTests, numFailedTests, numPendingTests, numTotalTests })
    )
  }
}
