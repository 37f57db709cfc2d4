// The tutorials' Node.js handlers, timed inside Node.
//
//   node bench/node_handler.mjs <variant> <batch.json> <repeats> <warmups>  >log-file
//
// Variants:
//   new-image    the tutorial's `console.log(unmarshall(record.dynamodb.NewImage))`, guarded
//                (verbatim, it throws on REMOVE, which has no NewImage);
//   both-images  `console.log(newImage, oldImage)`, each unmarshalled when present;
//   event        the other tutorial's `console.log(JSON.stringify(event, null, 2))`.
// unmarshall with default options throws on numbers beyond double precision: each record is
// wrapped in try/catch so the run completes, and the records that could not be logged are
// counted.
//
// The handler runs `warmups` times (the JIT warms up, as in a warm Lambda), then `repeats`
// times timed with process.hrtime.bigint(). stdout is the log file: Node writes to a file
// synchronously, one write per console.log. Prints one JSON line on stderr:
// {"ns", "bytes", "records", "failed", "elided"}, counts per invocation.
import { fstatSync, readFileSync } from "node:fs";
import { format } from "node:util";
import { unmarshall } from "@aws-sdk/util-dynamodb";

let failed = 0;

function logNewImage(record) {
  if (record.dynamodb.NewImage) console.log(unmarshall(record.dynamodb.NewImage));
}

function logBothImages(record) {
  const { NewImage, OldImage } = record.dynamodb;
  console.log(NewImage ? unmarshall(NewImage) : undefined, OldImage ? unmarshall(OldImage) : undefined);
}

function perRecord(log) {
  return async (event) => {
    for (const record of event.Records) {
      try {
        log(record);
      } catch {
        failed += 1;
      }
    }
    return `Successfully processed ${event.Records.length} records.`;
  };
}

const handlers = {
  "new-image": perRecord(logNewImage),
  "both-images": perRecord(logBothImages),
  event: async (event) => {
    console.log(JSON.stringify(event, null, 2));
    return `Successfully processed ${event.Records.length} records.`;
  },
};

// Untimed: how many records console.log shows incompletely. util.inspect prints objects
// nested deeper than 2 levels as [Object] and arrays as [Array].
function elided(variant, records) {
  if (variant === "event") return 0;
  let count = 0;
  for (const { dynamodb } of records) {
    try {
      const images = variant === "new-image" ? [dynamodb.NewImage] : [dynamodb.NewImage, dynamodb.OldImage];
      const text = format(...images.map((image) => (image ? unmarshall(image) : undefined)));
      if (text.includes("[Object]") || text.includes("[Array]")) count += 1;
    } catch {
      // counted as failed already
    }
  }
  return count;
}

const [variant, batchPath, repeatsArg, warmupsArg] = process.argv.slice(2);
const handler = handlers[variant];
if (!handler) throw new Error(`unknown variant ${variant}`);
const repeats = Number(repeatsArg);
const warmups = Number(warmupsArg);
const event = JSON.parse(readFileSync(batchPath, "utf8"));

for (let i = 0; i < warmups; i += 1) await handler(event);
failed = 0;
const before = fstatSync(1).size;
const start = process.hrtime.bigint();
for (let i = 0; i < repeats; i += 1) await handler(event);
const ns = process.hrtime.bigint() - start;
const bytes = fstatSync(1).size - before;

process.stderr.write(
  `${JSON.stringify({
    ns: Number(ns),
    bytes: bytes / repeats,
    records: event.Records.length,
    failed: failed / repeats,
    elided: elided(variant, event.Records),
  })}\n`,
);
