import test from "ava";
import { redactEnvironment } from "../../cli/record/redact";

test("secrets are redacted by name: AWS credentials and anything saying key, secret, token or password", (t) => {
  t.deepEqual(
    redactEnvironment({
      AWS_SECRET_ACCESS_KEY: "a",
      AWS_SESSION_TOKEN: "b",
      AWS_ACCESS_KEY_ID: "c",
      AWS_REGION: "eu-west-1",
      apiKey: "d",
      CLIENT_SECRET: "e",
      DB_PASSWORD: "f",
      PGPASSWD: "g",
      TABLE_NAME: "orders",
      MONKEY_BUSINESS: "h",
    }),
    {
      environment: {
        AWS_ACCESS_KEY_ID: "[redacted]",
        AWS_REGION: "eu-west-1",
        AWS_SECRET_ACCESS_KEY: "[redacted]",
        AWS_SESSION_TOKEN: "[redacted]",
        CLIENT_SECRET: "[redacted]",
        DB_PASSWORD: "[redacted]",
        MONKEY_BUSINESS: "[redacted]",
        PGPASSWD: "[redacted]",
        TABLE_NAME: "orders",
        apiKey: "[redacted]",
      },
      redacted: [
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "CLIENT_SECRET",
        "DB_PASSWORD",
        "MONKEY_BUSINESS",
        "PGPASSWD",
        "apiKey",
      ],
    },
  );
});
