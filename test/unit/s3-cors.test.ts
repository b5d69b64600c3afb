import { describe, expect, it } from 'vitest';
import {
  corsConfigurationXml,
  matchCors,
  parseCorsConfiguration,
  parseRequestHeaders,
  wildcardMatch,
  type CorsRule,
} from '../../src/s3/cors.js';
import { parseXml } from '../../src/s3/xml.js';
import { err } from '../helpers/errors.js';

const NS = 'xmlns="http://s3.amazonaws.com/doc/2006-03-01/"';
const cfg = (rules: string, ns = true) => `<CORSConfiguration${ns ? ` ${NS}` : ''}>${rules}</CORSConfiguration>`;
const rule = (inner: string) => `<CORSRule>${inner}</CORSRule>`;
const basic = '<AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod>';

const r = (x: Partial<CorsRule> & Pick<CorsRule, 'allowedOrigins' | 'allowedMethods'>): CorsRule => ({
  allowedHeaders: [],
  exposeHeaders: [],
  ...x,
});

describe('parseCorsConfiguration', () => {
  it('parses every element, keeping values and order as sent', () => {
    const xml = cfg(
      rule(
        '<ID>upload</ID><AllowedOrigin>https://console.example</AllowedOrigin><AllowedOrigin>http://*.example.com</AllowedOrigin>' +
          '<AllowedMethod>PUT</AllowedMethod><AllowedMethod>POST</AllowedMethod><AllowedHeader>Authorization</AllowedHeader>' +
          '<AllowedHeader>x-amz-*</AllowedHeader><ExposeHeader>ETag</ExposeHeader><ExposeHeader>x-amz-request-id</ExposeHeader>' +
          '<MaxAgeSeconds>3000</MaxAgeSeconds>',
      ) + rule(basic),
    );
    expect(parseCorsConfiguration(xml)).toEqual([
      {
        id: 'upload',
        allowedOrigins: ['https://console.example', 'http://*.example.com'],
        allowedMethods: ['PUT', 'POST'],
        allowedHeaders: ['Authorization', 'x-amz-*'],
        exposeHeaders: ['ETag', 'x-amz-request-id'],
        maxAgeSeconds: 3000,
      },
      { allowedOrigins: ['*'], allowedMethods: ['GET'], allowedHeaders: [], exposeHeaders: [] },
    ]);
  });

  it('accepts the root without a namespace, whitespace between elements, an empty origin and 100 rules', () => {
    const pretty = `<?xml version="1.0"?>\n<CORSConfiguration>\n  <CORSRule>\n    <AllowedOrigin></AllowedOrigin>\n    <AllowedMethod>HEAD</AllowedMethod>\n  </CORSRule>\n</CORSConfiguration>\n`;
    expect(parseCorsConfiguration(pretty)).toEqual([{ allowedOrigins: [''], allowedMethods: ['HEAD'], allowedHeaders: [], exposeHeaders: [] }]);
    expect(parseCorsConfiguration(cfg(rule(basic).repeat(100)))).toHaveLength(100);
    expect(parseCorsConfiguration(cfg(rule(basic + '<MaxAgeSeconds>0</MaxAgeSeconds>')))[0]!.maxAgeSeconds).toBe(0);
  });

  const cases: Array<[string, string, string, string?]> = [
    ['no rule', cfg(''), 'MalformedXML'],
    ['an empty root element', '<CORSConfiguration/>', 'MalformedXML'],
    ['another root element', `<CORSRules>${rule(basic)}</CORSRules>`, 'MalformedXML'],
    ['not XML', 'AllowedOrigin: *', 'MalformedXML'],
    ['an empty rule', cfg('<CORSRule/>'), 'MalformedXML'],
    ['a rule without AllowedOrigin', cfg(rule('<AllowedMethod>GET</AllowedMethod>')), 'MalformedXML'],
    ['a rule without AllowedMethod', cfg(rule('<AllowedOrigin>*</AllowedOrigin>')), 'MalformedXML'],
    ['101 rules', cfg(rule(basic).repeat(101)), 'MalformedXML'],
    ['an unknown element in a rule', cfg(rule(basic + '<AllowedOrigins>x</AllowedOrigins>')), 'MalformedXML'],
    ['an unknown element beside the rules', cfg(rule(basic) + '<Rule/>'), 'MalformedXML'],
    ['text beside the rules', cfg(rule(basic) + 'junk'), 'MalformedXML'],
    ['text in a rule', cfg(rule(basic + 'junk')), 'MalformedXML'],
    ['a nested element where text belongs', cfg(rule('<AllowedOrigin><a/></AllowedOrigin><AllowedMethod>GET</AllowedMethod>')), 'MalformedXML'],
    ['two IDs', cfg(rule(basic + '<ID>a</ID><ID>b</ID>')), 'MalformedXML'],
    ['two MaxAgeSeconds', cfg(rule(basic + '<MaxAgeSeconds>1</MaxAgeSeconds><MaxAgeSeconds>2</MaxAgeSeconds>')), 'MalformedXML'],
    ['a MaxAgeSeconds that is not an integer', cfg(rule(basic + '<MaxAgeSeconds>1.5</MaxAgeSeconds>')), 'MalformedXML'],
    ['a negative MaxAgeSeconds', cfg(rule(basic + '<MaxAgeSeconds>-1</MaxAgeSeconds>')), 'MalformedXML'],
    ['a MaxAgeSeconds beyond 32 bits', cfg(rule(basic + '<MaxAgeSeconds>2147483648</MaxAgeSeconds>')), 'MalformedXML'],
    ['a DTD', `<!DOCTYPE x [<!ENTITY a "b">]>${cfg(rule(basic))}`, 'MalformedXML'],
    ['an unsupported method', cfg(rule('<AllowedOrigin>*</AllowedOrigin><AllowedMethod>MYMETHOD</AllowedMethod>')), 'InvalidRequest', 'Found unsupported HTTP method in CORS config. Unsupported method is MYMETHOD'],
    ['OPTIONS as a method', cfg(rule('<AllowedOrigin>*</AllowedOrigin><AllowedMethod>OPTIONS</AllowedMethod>')), 'InvalidRequest', 'Found unsupported HTTP method in CORS config. Unsupported method is OPTIONS'],
    ['a lower-case method', cfg(rule('<AllowedOrigin>*</AllowedOrigin><AllowedMethod>get</AllowedMethod>')), 'InvalidRequest'],
    ['an empty method', cfg(rule('<AllowedOrigin>*</AllowedOrigin><AllowedMethod/>')), 'InvalidRequest', 'Found unsupported HTTP method in CORS config. Unsupported method is '],
    ['two wildcards in an origin', cfg(rule('<AllowedOrigin>*example*.com</AllowedOrigin><AllowedMethod>GET</AllowedMethod>')), 'InvalidRequest', 'AllowedOrigin "*example*.com" can not have more than one wildcard.'],
    ['two wildcards in a header', cfg(rule(basic + '<AllowedHeader>x-*-*</AllowedHeader>')), 'InvalidRequest', 'AllowedHeader "x-*-*" can not have more than one wildcard.'],
    ['a wildcard ExposeHeader', cfg(rule(basic + '<ExposeHeader>*</ExposeHeader>')), 'InvalidRequest', 'We currently do not support wildcard for ExposeHeader.'],
    ['an ExposeHeader that is not a header name', cfg(rule(basic + '<ExposeHeader>ETag&#13;&#10;Set-Cookie: a=b</ExposeHeader>')), 'InvalidRequest'],
    ['an ID over 255 characters', cfg(rule(basic + `<ID>${'i'.repeat(256)}</ID>`)), 'InvalidArgument'],
  ];
  for (const [what, xml, code, message] of cases) {
    it(`refuses ${what}: ${code}`, () => {
      const e = err(() => parseCorsConfiguration(xml));
      expect(e?.code).toBe(code);
      if (message !== undefined) expect(e?.message).toBe(message);
    });
  }

  it('allows an ID of 255 characters', () => {
    expect(parseCorsConfiguration(cfg(rule(basic + `<ID>${'i'.repeat(255)}</ID>`)))[0]!.id).toHaveLength(255);
  });
});

describe('corsConfigurationXml', () => {
  it('writes only the members a rule has, and reads back the same rules', () => {
    const rules: CorsRule[] = [
      r({ id: 'a<&>"', allowedOrigins: ['https://x.example', '*'], allowedMethods: ['GET', 'PUT'], allowedHeaders: ['*'], exposeHeaders: ['ETag'], maxAgeSeconds: 60 }),
      r({ allowedOrigins: [''], allowedMethods: ['DELETE'] }),
    ];
    const xml = corsConfigurationXml(rules);
    expect(xml).toBe(
      `<?xml version="1.0" encoding="UTF-8"?>\n<CORSConfiguration ${NS}>` +
        '<CORSRule><AllowedHeader>*</AllowedHeader><AllowedMethod>GET</AllowedMethod><AllowedMethod>PUT</AllowedMethod>' +
        '<AllowedOrigin>https://x.example</AllowedOrigin><AllowedOrigin>*</AllowedOrigin><ExposeHeader>ETag</ExposeHeader>' +
        '<ID>a&lt;&amp;&gt;&quot;</ID><MaxAgeSeconds>60</MaxAgeSeconds></CORSRule>' +
        '<CORSRule><AllowedMethod>DELETE</AllowedMethod><AllowedOrigin></AllowedOrigin></CORSRule></CORSConfiguration>',
    );
    expect(() => parseXml(xml)).not.toThrow();
    expect(parseCorsConfiguration(xml)).toEqual(rules);
  });
});

describe('wildcardMatch', () => {
  const table: Array<[string, string, boolean]> = [
    ['*', '', true],
    ['*', 'https://anything', true],
    ['https://a.example', 'https://a.example', true],
    ['https://a.example', 'https://a.example/', false],
    ['https://a.example', 'http://a.example', false],
    ['https://a.example', 'https://a.example:443', false],
    ['http://*.origin.com', 'http://test.origin.com', true],
    ['http://*.origin.com', 'http://a.b.origin.com', true],
    ['http://*.origin.com', 'http://.origin.com', true],
    ['http://*.origin.com', 'http://origin.com', false],
    ['http://*.origin.com', 'https://test.origin.com', false],
    ['*suffix', 'foo.suffix', true],
    ['*suffix', 'foo.suffix.get', false],
    ['start*end', 'startend', true],
    ['start*end', 'start12end', true],
    ['start*end', '0start12end', false],
    ['start*end', 'startend1', false],
    ['ab*ba', 'aba', false],
    ['prefix*', 'prefix', true],
    ['prefix*', 'bla.prefix', false],
    ['', '', true],
    ['', 'x', false],
  ];
  for (const [pattern, value, want] of table) {
    it(`${JSON.stringify(pattern)} ${want ? 'matches' : 'does not match'} ${JSON.stringify(value)}`, () => {
      expect(wildcardMatch(pattern, value)).toBe(want);
    });
  }
});

describe('parseRequestHeaders', () => {
  it('lower-cases, trims, drops empty elements and duplicates, keeps the order', () => {
    expect(parseRequestHeaders(undefined)).toEqual([]);
    expect(parseRequestHeaders('')).toEqual([]);
    expect(parseRequestHeaders('x-AMZ-expected-BUCKET-owner, x-amz-server-side-encryption')).toEqual(['x-amz-expected-bucket-owner', 'x-amz-server-side-encryption']);
    expect(parseRequestHeaders('b,a,,B , a')).toEqual(['b', 'a']);
  });
  it('refuses names that are not header names', () => {
    expect(parseRequestHeaders('content-type, x y')).toBeUndefined();
    expect(parseRequestHeaders('a:b')).toBeUndefined();
  });
});

describe('matchCors', () => {
  const console_ = 'http://127.0.0.1:9001';
  const rules: CorsRule[] = [
    r({ id: 'console', allowedOrigins: [console_], allowedMethods: ['GET', 'PUT', 'POST', 'DELETE', 'HEAD'], allowedHeaders: ['authorization', 'content-type', 'x-amz-*'], exposeHeaders: ['ETag', 'x-amz-request-id'], maxAgeSeconds: 600 }),
    r({ allowedOrigins: ['https://*.example.com'], allowedMethods: ['GET'], allowedHeaders: ['*'] }),
    r({ allowedOrigins: ['*'], allowedMethods: ['GET', 'HEAD'] }),
  ];
  const VARY = 'Origin, Access-Control-Request-Headers, Access-Control-Request-Method';

  it('answers a preflight of the console: its origin echoed with credentials, methods, requested headers, expose, max age, Vary', () => {
    const m = matchCors(rules, console_, 'PUT', 'authorization,content-type,x-amz-checksum-crc32,x-amz-content-sha256,x-amz-date,x-amz-sdk-checksum-algorithm');
    expect(m?.index).toBe(0);
    expect(m?.headers).toEqual({
      'Access-Control-Allow-Origin': console_,
      'Access-Control-Allow-Credentials': 'true',
      'Access-Control-Allow-Methods': 'GET, PUT, POST, DELETE, HEAD',
      'Access-Control-Allow-Headers': 'authorization, content-type, x-amz-checksum-crc32, x-amz-content-sha256, x-amz-date, x-amz-sdk-checksum-algorithm',
      'Access-Control-Expose-Headers': 'ETag, x-amz-request-id',
      'Access-Control-Max-Age': '600',
      Vary: VARY,
    });
  });

  it('matches header names case-insensitively and answers them lower case', () => {
    expect(matchCors(rules, console_, 'GET', 'Authorization, X-Amz-Date')?.headers['Access-Control-Allow-Headers']).toBe('authorization, x-amz-date');
  });

  it('falls through to a later rule when a requested header is not allowed by an earlier one', () => {
    // Rule 0 does not match this origin; rule 1 allows every header.
    expect(matchCors(rules, 'https://app.example.com', 'GET', 'x-custom')?.index).toBe(1);
    // The console origin asking for a header rule 0 lacks: rule 2 matches the origin and GET but allows no header.
    expect(matchCors(rules, console_, 'GET', 'x-custom')).toBeNull();
    // ...and without it, rule 0 answers.
    expect(matchCors(rules, console_, 'GET')?.index).toBe(0);
  });

  it("answers '*' without credentials when the origin matched the pattern '*'", () => {
    const m = matchCors(rules, 'https://elsewhere.test', 'GET');
    expect(m?.index).toBe(2);
    expect(m?.headers).toEqual({ 'Access-Control-Allow-Origin': '*', 'Access-Control-Allow-Methods': 'GET, HEAD', Vary: VARY });
  });

  it('refuses what no rule allows', () => {
    expect(matchCors(rules, 'https://elsewhere.test', 'PUT')).toBeNull();
    expect(matchCors(rules, 'https://elsewhere.test', 'GET', 'authorization')).toBeNull();
    expect(matchCors(rules, console_, 'PATCH')).toBeNull();
    expect(matchCors(rules, console_, 'put')).toBeNull();
    expect(matchCors(rules, console_, 'GET', 'bad header')).toBeNull();
    expect(matchCors([], console_, 'GET')).toBeNull();
  });

  it('compares origins case-sensitively, scheme and port included', () => {
    const only = [r({ allowedOrigins: ['http://localhost:4200'], allowedMethods: ['GET'] })];
    expect(matchCors(only, 'http://localhost:4200', 'GET')).not.toBeNull();
    expect(matchCors(only, 'https://localhost:4200', 'GET')).toBeNull();
    expect(matchCors(only, 'http://localhost', 'GET')).toBeNull();
    expect(matchCors(only, 'http://LOCALHOST:4200', 'GET')).toBeNull();
  });

  it('with no AllowedHeader, allows a request that asks for none', () => {
    const only = [r({ allowedOrigins: ['*'], allowedMethods: ['GET'], exposeHeaders: ['x-amz-meta-header1'] })];
    expect(matchCors(only, 'x', 'GET', '')?.headers['Access-Control-Allow-Headers']).toBeUndefined();
    expect(matchCors(only, 'x', 'GET', 'x-amz-meta-header2')).toBeNull();
  });

  it('takes the first rule that matches, not the best', () => {
    const two = [r({ allowedOrigins: ['*'], allowedMethods: ['GET'] }), r({ allowedOrigins: ['https://a'], allowedMethods: ['GET'], maxAgeSeconds: 5 })];
    expect(matchCors(two, 'https://a', 'GET')?.headers['Access-Control-Allow-Origin']).toBe('*');
  });
});
