// Child process for the crash test: saves versions start, start+1, ... of a large project until killed,
// printing "saved K" after each save returns. Usage: node --import tsx save-loop.ts DIR START REGIONS
import { saveProject } from "../../app/project/project";
import { versionDocument } from "./versions";

const [dir, startText, regionsText] = process.argv.slice(2);
if (!dir || !startText || !regionsText) {
  process.stderr.write("usage: save-loop.ts DIR START REGIONS\n");
  process.exit(2);
}
const regionCount = Number(regionsText);
for (let version = Number(startText); ; version++) {
  await saveProject(dir, versionDocument(version, regionCount));
  process.stdout.write(`saved ${version}\n`);
}
