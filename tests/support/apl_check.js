// Amazon's APL validator (apl-suggester) on one document: reads the APL document as JSON on
// stdin, prints its findings ({path, errorMessage, level}) as one JSON line after "FINDINGS ".
// The validator logs "No mixin for component" lines of its own on stdout; the marker keeps
// them apart from the answer.
const { StaticAplTemplateValidator } = require("apl-suggester");

let input = "";
process.stdin.on("data", (chunk) => { input += chunk; });
process.stdin.on("end", async () => {
  const findings = await new StaticAplTemplateValidator().validate(JSON.parse(input));
  process.stdout.write("\nFINDINGS " + JSON.stringify(findings || []) + "\n");
});
