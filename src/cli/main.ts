/** The `salient` executable (bundled as dist/cli.js): runs the command line, sets the exit status. */
import { runCli } from "./cli.ts";

runCli(process.argv.slice(2), {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
}).then((code) => {
  process.exitCode = code;
});
