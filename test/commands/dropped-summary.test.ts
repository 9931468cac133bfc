import test from "ava";
import { droppedSummary } from "../../cli/commands/serve";

test("the exit summary names what the session dropped, and says nothing when it dropped nothing", (t) => {
  t.is(droppedSummary({ unsealed: 0, malformed: 0, duplicate: 4, handled: 9 }), undefined);
  t.is(
    droppedSummary({ unsealed: 3, malformed: 1, expired: 2, duplicate: 4 }),
    "dropped messages: 3 unsealed, 1 malformed, 2 expired. Unsealed or foreign ones are not this stack's " +
      "(another key: an old deployment, or someone else on the topics); expired ones arrived after their deadline.",
  );
});
