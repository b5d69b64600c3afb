// The bucket policy engine's public types and its compiled form. A policy is parsed and checked
// once (parsePolicy) into matchers built ahead of time, so evaluating a request walks a few
// statements without parsing, lower-casing or building patterns.

/** Thrown for any invalid policy; the message says what is wrong (S3's 400 MalformedPolicy message). */
export class PolicyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PolicyError';
  }
}

/** The caller: a cairn account (64-hex canonical id, lower case, as policies are compiled) and the access key that signed. */
export interface PolicyPrincipal {
  accountId: string;
  accessKeyId: string;
}

/** One value, several values, or undefined when the request has no such key. */
export type ConditionValue = string | readonly string[] | undefined;

export interface PolicyRequest {
  /** One concrete action, e.g. 's3:GetObject'. */
  action: string;
  /** 'arn:aws:s3:::bucket' or 'arn:aws:s3:::bucket/key' (the key raw, not encoded). */
  resource: string;
  /** null = anonymous. */
  principal: PolicyPrincipal | null;
  /** Value(s) of a condition key for this request, undefined when absent. Key names arrive lower-cased. */
  condition(key: string): ConditionValue;
}

/** undefined = no statement applies. */
export type PolicyDecision = 'Allow' | 'Deny' | undefined;

/** Who a Principal / NotPrincipal element names. */
export interface PrincipalSet {
  /** "*" or {"AWS": "*"}: everyone, anonymous included. */
  readonly anyone: boolean;
  /** Whole accounts (64-hex ids, lower case). */
  readonly accounts: ReadonlySet<string>;
  /** Single access keys, by account id. */
  readonly keys: ReadonlyMap<string, ReadonlySet<string>>;
}

/** The statement's Action / NotAction patterns, resolved against the known actions. */
export interface ActionSet {
  /** '*' or 's3:*'. */
  readonly all: boolean;
  /** Canonical names of the known actions the patterns match. */
  readonly known: ReadonlySet<string>;
  /** The patterns themselves, for a request action the table does not know. */
  readonly patterns: readonly RegExp[];
}

/** The parts of a condition clause that isPublicPolicy reads. */
export interface ConditionInfo {
  /** Lower-case key name. */
  readonly key: string;
  /** Base operator in canonical spelling, without qualifier or IfExists (e.g. 'StringEquals'). */
  readonly operator: string;
  readonly qualifier: 'ForAnyValue' | 'ForAllValues' | undefined;
  readonly ifExists: boolean;
  /** The policy's values as strings. */
  readonly values: readonly string[];
}

export interface CompiledCondition extends ConditionInfo {
  /** Whether the clause holds for the request's value(s) of `key`. */
  readonly test: (value: ConditionValue) => boolean;
}

export interface CompiledStatement {
  readonly sid: string | undefined;
  readonly effect: 'Allow' | 'Deny';
  readonly principals: PrincipalSet;
  /** NotPrincipal: the statement applies to everyone the set does not name. */
  readonly notPrincipal: boolean;
  readonly actions: ActionSet;
  readonly notAction: boolean;
  /** Whether a resource ARN is one the Resource / NotResource patterns name. */
  readonly resource: (arn: string) => boolean;
  readonly notResource: boolean;
  readonly conditions: readonly CompiledCondition[];
}

export interface CompiledPolicy {
  /** The document as given. */
  readonly text: string;
  readonly statements: readonly CompiledStatement[];
  /** Every condition key the statements mention, lower case. */
  readonly conditionKeys: ReadonlySet<string>;
}
