import { registerLoopTests } from "./loop";

registerLoopTests({
  name: "aedes (embedded)",
  start: async () => ({ url: undefined, stop: async () => undefined }),
});
