import { registerStreamTests } from "./stream-loop";

registerStreamTests({
  name: "aedes (embedded), streaming",
  start: async () => ({ url: undefined, stop: async () => undefined }),
});
