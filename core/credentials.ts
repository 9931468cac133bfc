/** AWS credentials, as Lambda gives them to a function's role and as the AWS SDK's providers resolve them. */
export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  /** When temporary credentials expire. */
  expiration?: Date;
}
