// Long-lived virtual-alexa session for tests/support/virtual_alexa.py.
// argv[2]: JSON {model, url, locale, applicationId?, deviceId?, apiEndpoint?, userId?,
//                slotTypes?: {typeName: regex source}}.
// stdin: one JSON command per line,
//        {id, op: "launch" | "utter" | "intend" | "end" | "session" | "match", …};
// stdout: one JSON reply per line, {id, response, request} or {id, error}; "match" answers
//         {id, response: [{intent, slots} or null, …]} for its "texts" without sending anything.
"use strict";
const readline = require("readline");
const { VirtualAlexa } = require("virtual-alexa");
const { Utterance } = require("virtual-core");
// endSession() takes the enum's number and sends its name; the enum is not re-exported.
const { SessionEndedReason } = require("virtual-alexa/lib/src/core/SkillRequest");
const { BuiltinSlotType } = require("virtual-alexa/lib/src/model/BuiltinSlotTypes");

// virtual-alexa knows one built-in slot type, AMAZON.NUMBER, and lets every other one hear any
// words: "at {time}" would then swallow "at night my back hurts". A type given here hears only
// what its pattern matches, as AMAZON.NUMBER does (enumerated: no match means no match).
class PatternSlotType extends BuiltinSlotType {
  isEnumerated() {
    return true;
  }
}

// Nothing but replies may reach stdout (virtual-alexa logs with console.log/console.error).
console.log = console.error;

const config = JSON.parse(process.argv[2]);
let builder = VirtualAlexa.Builder()
  .interactionModelFile(config.model)
  .skillURL(config.url)
  .locale(config.locale || "en-US");
if (config.applicationId) builder = builder.applicationID(config.applicationId);
const alexa = builder.create();
const patterns = Object.entries(config.slotTypes || {}).map(
  ([name, source]) => new PatternSlotType(name, [], new RegExp("^(?:" + source + ")$", "i")));
alexa.context().interactionModel().slotTypes.addTypes(patterns);
if (config.deviceId) alexa.context().device().setID(config.deviceId);
if (config.userId) alexa.context().user().setID(config.userId);

let lastRequest = null;
alexa.filter((request) => {
  // Without a device ID virtual-alexa sends no apiEndpoint; with one it sends the real Amazon URL.
  if (config.apiEndpoint) request.context.System.apiEndpoint = config.apiEndpoint;
  lastRequest = JSON.parse(JSON.stringify(request));
});

function run(command) {
  switch (command.op) {
    case "launch":
      return alexa.launch();
    case "utter":
      return alexa.utter(command.text);
    case "intend":
      return alexa.intend(command.name, command.slots || undefined);
    case "end": {
      const reason = SessionEndedReason[command.reason || "USER_INITIATED"];
      if (typeof reason !== "number") throw new Error("unknown SessionEndedRequest reason " + command.reason);
      return alexa.endSession(reason, command.error || undefined);
    }
    case "match":
      // What utter() resolves before it sends anything: the same Utterance on the same model.
      return command.texts.map((text) => {
        const utterance = new Utterance(alexa.context().interactionModel(), text);
        return utterance.matched() ? { intent: utterance.intent(), slots: utterance.toJSON() } : null;
      });
    case "session": {
      const context = alexa.context();
      const active = context.activeSession();
      return {
        active,
        id: active ? context.session().id() : null,
        attributes: active ? context.session().attributes() : null,
      };
    }
    default:
      throw new Error("unknown op " + command.op);
  }
}

const lines = readline.createInterface({ input: process.stdin, terminal: false });
let queue = Promise.resolve();
lines.on("line", (line) => {
  if (!line.trim()) return;
  queue = queue.then(async () => {
    let command = {};
    try {
      command = JSON.parse(line);
      lastRequest = null;
      // Promise.resolve().then: utter() throws synchronously on an unmatched utterance.
      const response = await Promise.resolve().then(() => run(command));
      const reply = { id: command.id, response: JSON.parse(JSON.stringify(response)) };
      if (command.op !== "session") reply.request = lastRequest;
      process.stdout.write(JSON.stringify(reply) + "\n");
    } catch (err) {
      const message = err && err.message ? err.message : String(err);
      process.stdout.write(JSON.stringify({ id: command.id, error: message, request: lastRequest }) + "\n");
    }
  });
});
lines.on("close", () => queue.then(() => process.exit(0)));
