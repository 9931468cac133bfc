import test from "ava";
import { auth, http } from "aws-crt";
import { presignIotUrl, type AwsCredentials } from "../../stub/sigv4";

const endpoint = "a1b2c3d4e5f6g7-ats.iot.eu-west-1.amazonaws.com";
const region = "eu-west-1";
const date = new Date(Date.UTC(2024, 0, 2, 3, 4, 5));

/** aws-crt's own SigV4 query signing of the same request, as the IoT device SDK does it. */
async function crtSignature(credentials: AwsCredentials): Promise<URLSearchParams> {
  const request = new http.HttpRequest("GET", "/mqtt", new http.HttpHeaders([["host", endpoint]]));
  const signed = await auth.aws_sign_request(request, {
    algorithm: auth.AwsSigningAlgorithm.SigV4,
    signature_type: auth.AwsSignatureType.HttpRequestViaQueryParams,
    provider: auth.AwsCredentialsProvider.newStatic(
      credentials.accessKeyId,
      credentials.secretAccessKey,
      credentials.sessionToken,
    ),
    region,
    service: "iotdevicegateway",
    date,
    signed_body_value: auth.AwsSignedBodyValue.EmptySha256,
    omit_session_token: true,
  });
  return new URL(`wss://${endpoint}${signed.path}`).searchParams;
}

function parts(url: string): { base: string; names: string[]; params: URLSearchParams } {
  const parsed = new URL(url);
  return {
    base: `${parsed.protocol}//${parsed.host}${parsed.pathname}`,
    names: [...parsed.searchParams.keys()],
    params: parsed.searchParams,
  };
}

test("the presigned URL carries the same signature as aws-crt's, token appended after it", async (t) => {
  const credentials = {
    accessKeyId: "ASIAEXAMPLEKEYID1234",
    secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    sessionToken: "IQoJb3JpZ2luX2VjEXAMPLE+token/with=chars",
  };
  const url = presignIotUrl({ endpoint, region, credentials, date });
  const expected = await crtSignature(credentials);
  const { base, names, params } = parts(url);
  t.is(base, `wss://${endpoint}/mqtt`);
  t.is(params.get("X-Amz-Signature"), expected.get("X-Amz-Signature"));
  t.deepEqual(names, [
    "X-Amz-Algorithm",
    "X-Amz-Credential",
    "X-Amz-Date",
    "X-Amz-SignedHeaders",
    "X-Amz-Signature",
    "X-Amz-Security-Token",
  ]);
  for (const name of [
    "X-Amz-Algorithm",
    "X-Amz-Credential",
    "X-Amz-Date",
    "X-Amz-SignedHeaders",
    "X-Amz-Security-Token",
  ]) {
    t.is(params.get(name), expected.get(name), name);
  }
  t.is(
    params.get("X-Amz-Credential"),
    "ASIAEXAMPLEKEYID1234/20240102/eu-west-1/iotdevicegateway/aws4_request",
  );
  t.true(url.endsWith("&X-Amz-Security-Token=IQoJb3JpZ2luX2VjEXAMPLE%2Btoken%2Fwith%3Dchars"));

  // The token is outside the signature: changing it leaves the signature as it was.
  const other = presignIotUrl({
    endpoint,
    region,
    credentials: { ...credentials, sessionToken: "other" },
    date,
  });
  t.is(parts(other).params.get("X-Amz-Signature"), params.get("X-Amz-Signature"));
});

test("without a session token the URL has none and still matches aws-crt", async (t) => {
  const credentials = { accessKeyId: "AKIAEXAMPLEKEYID5678", secretAccessKey: "secret/with+special=chars" };
  const url = presignIotUrl({ endpoint, region, credentials, date });
  const expected = await crtSignature(credentials);
  const { names, params } = parts(url);
  t.is(params.get("X-Amz-Signature"), expected.get("X-Amz-Signature"));
  t.false(names.includes("X-Amz-Security-Token"));
  t.is(params.get("X-Amz-Date"), "20240102T030405Z");
  t.regex(url, /&X-Amz-Signature=[0-9a-f]{64}$/);
});
