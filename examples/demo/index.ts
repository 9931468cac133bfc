// The demo Pulumi program (Pulumi.yaml runs its compiled form). Module exports become stack outputs.
import { demoProgram } from "./program";

const demo = demoProgram();

export const apiUrl = demo.apiUrl;
export const queueUrl = demo.queueUrl;
