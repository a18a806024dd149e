// Structured output: whatever a random-weight model wants to say, an answer
// under response_format json_object or json_schema parses, and validates
// against the schema (checked by Ajv, an independent JSON Schema validator),
// at any max_tokens, streamed or not. Unsupported schemas get a 400.
// Usage: node structured.mjs EXE
import Ajv from 'ajv';
import OpenAI from 'openai';
import { check, checkStopsCleanly, startServer } from './lib.mjs';

const srv = await startServer(process.argv[2], ['--parallel', '4', '--ctx', '512', '-t', '2']);
const client = new OpenAI({ baseURL: srv.base + '/v1', apiKey: 'none', maxRetries: 0 });
const ajv = new Ajv({ strict: false });
const schemas = {
  person: {
    type: 'object',
    properties: {
      name: { type: 'string' }, age: { type: 'integer' }, height: { type: 'number' }, member: { type: 'boolean' },
      tags: { type: 'array', items: { type: 'string' }, minItems: 1, maxItems: 3 },
      role: { enum: ['admin', 'user', 42, null] }, note: { type: ['string', 'null'] },
    },
    required: ['name', 'age', 'tags', 'role'], additionalProperties: false,
  },
  nested: {
    type: 'object',
    properties: {
      items: { type: 'array', items: { $ref: '#/$defs/item' } },
      meta: { type: 'object', properties: { version: { const: 2 }, ok: { type: 'boolean' } }, required: ['version'] },
      choice: { anyOf: [{ type: 'integer' }, { type: 'object', properties: { x: { type: 'number' } }, required: ['x'] }] },
    },
    required: ['items', 'meta', 'choice'],
    $defs: { item: { type: 'object', properties: { id: { type: 'integer' }, label: { type: 'string' } }, required: ['id'] } },
  },
  list: { type: 'array', items: { type: 'number' }, minItems: 2 },
};
try {
  let answers = 0;
  for (const [name, schema] of Object.entries(schemas)) {
    const validate = ajv.compile(schema);
    for (const [seed, max_tokens] of [[1, 200], [2, 40], [3, 24], [4, 120]]) {
      const r = await client.chat.completions.create({
        model: 'tiny', messages: [{ role: 'user', content: 'Answer in JSON.' }], max_tokens, seed, temperature: 1,
        response_format: { type: 'json_schema', json_schema: { name, schema, strict: true } },
      });
      const text = r.choices[0].message.content;
      let value;
      try { value = JSON.parse(text); } catch (e) { throw new Error(`${name} seed ${seed}: not JSON: ${text}`); }
      if (!validate(value)) throw new Error(`${name} seed ${seed}: invalid: ${text} ${JSON.stringify(validate.errors)}`);
      if (r.usage.completion_tokens > max_tokens) throw new Error(`${name}: more tokens than max_tokens`);
      ++answers;
    }
  }
  check(answers === 12, 'json_schema answers parse and validate (3 schemas x 4 seeds and lengths, down to 24 tokens)');

  // json_object, streamed: the pieces make one JSON object.
  for (const seed of [5, 6, 7]) {
    const stream = await client.chat.completions.create({
      model: 'tiny', messages: [{ role: 'user', content: 'JSON please' }], max_tokens: 30, seed, stream: true,
      response_format: { type: 'json_object' },
    });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
    const v = JSON.parse(text);
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('not an object: ' + text);
  }
  check(true, 'json_object answers, streamed, are JSON objects');

  // Completions take it too; greedy answers are repeatable.
  const c1 = await client.completions.create({ model: 'tiny', prompt: '{"a":', max_tokens: 20, temperature: 0,
    response_format: { type: 'json_schema', json_schema: { name: 'list', schema: schemas.list } } });
  check(ajv.validate(schemas.list, JSON.parse(c1.choices[0].text)), 'completions under a schema validate');

  const status = async (p) => { try { await p; return 200; } catch (e) { return e.status; } };
  check(await status(client.chat.completions.create({ model: 'tiny', messages: [{ role: 'user', content: 'x' }], max_tokens: 5,
    response_format: { type: 'json_schema', json_schema: { name: 'p', schema: schemas.person } } })) === 400,
    'max_tokens below the schema\'s shortest answer: 400');
  for (const [what, schema] of [['a pattern', { type: 'string', pattern: '^a' }], ['minimum', { type: 'integer', minimum: 3 }],
    ['a $ref elsewhere', { $ref: 'http://example.com/s.json' }], ['unknown type', { type: 'date' }]])
    check(await status(client.chat.completions.create({ model: 'tiny', messages: [{ role: 'user', content: 'x' }], max_tokens: 4,
      response_format: { type: 'json_schema', json_schema: { name: 'x', schema } } })) === 400, `a schema with ${what}: 400`);
  const m = await (await fetch(srv.base + '/metrics')).text();
  console.log(m.split('\n').filter((l) => /constrain_seconds|generation_tokens/.test(l) && !l.startsWith('#')).join('\n'));
  await checkStopsCleanly(srv);
  console.log('structured output tests passed');
} finally {
  srv.proc.kill('SIGTERM');
}
