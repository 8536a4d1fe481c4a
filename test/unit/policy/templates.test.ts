/**
 * The shipped policy templates (resources/policy/) cannot drift from the schema
 * (shared/policy.ts): the ADMX has one policy per schema key writing that value name,
 * every string and presentation it refers to is in the ADML, and the Linux example
 * and the macOS profile's payload are valid policies with every key.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { POLICY_KEYS, PolicySchema } from '../../../shared/policy.js';
import { parsePlist } from '../../../electron/engine/policy/plist.js';

const dir = path.join(import.meta.dirname, '../../../resources/policy');
const read = (name: string): string => readFileSync(path.join(dir, name), 'utf8');
const xml = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', isArray: (name) => ['policy', 'string', 'presentation', 'text', 'item'].includes(name) });

interface AdmxPolicy {
  name: string;
  key: string;
  valueName?: string;
  displayName: string;
  explainText: string;
  presentation?: string;
  elements?: Record<string, unknown>;
}

describe('resources/policy', () => {
  const admx = xml.parse(read('sealpost.admx')) as { policyDefinitions: { policies: { policy: AdmxPolicy[] } } };
  const adml = xml.parse(read('en-US/sealpost.adml')) as {
    policyDefinitionResources: { resources: { stringTable: { string: { id: string }[] }; presentationTable: { presentation: { id: string }[] } } };
  };
  const policies = admx.policyDefinitions.policies.policy;

  it('the ADMX has exactly one policy per schema key, under SOFTWARE\\Policies\\Sealpost', () => {
    expect(policies.map((p) => p.name).sort()).toEqual([...POLICY_KEYS].sort());
    for (const p of policies) {
      expect(p.key, p.name).toBe(p.name === 'escrow' ? 'Software\\Policies\\Sealpost\\Escrow' : 'Software\\Policies\\Sealpost');
      const elements = Object.values(p.elements ?? {}).flat() as { valueName: string }[];
      const valueNames = p.valueName ? [p.valueName] : elements.map((e) => e.valueName);
      expect(valueNames, p.name).toEqual(p.name === 'escrow' ? ['url', 'appId', 'clientKey'] : [p.name]);
    }
  });

  it('every string and presentation the ADMX names is in the ADML', () => {
    const strings = new Set(adml.policyDefinitionResources.resources.stringTable.string.map((s) => s.id));
    const presentations = new Set(adml.policyDefinitionResources.resources.presentationTable.presentation.map((p) => p.id));
    const text = read('sealpost.admx');
    for (const [, id] of text.matchAll(/\$\(string\.([A-Za-z0-9_]+)\)/g)) expect(strings.has(id!), id).toBe(true);
    for (const [, id] of text.matchAll(/\$\(presentation\.([A-Za-z0-9_]+)\)/g)) expect(presentations.has(id!), id).toBe(true);
  });

  it('the Linux example and the macOS profile payload are valid policies setting every key', () => {
    const example = PolicySchema.parse(JSON.parse(read('policy.example.json')));
    expect(Object.keys(example).sort()).toEqual([...POLICY_KEYS].sort());
    const profile = parsePlist(read('sealpost.mobileconfig'), 'sealpost.mobileconfig') as { PayloadContent: Record<string, unknown>[] };
    const payload = Object.fromEntries(Object.entries(profile.PayloadContent[0]!).filter(([k]) => !k.startsWith('Payload')));
    expect(Object.keys(PolicySchema.parse(payload)).sort()).toEqual([...POLICY_KEYS].sort());
    expect(profile.PayloadContent[0]!.PayloadType).toBe('app.sealpost.desktop');
  });

  it('the deb installs the Linux example under /usr/share/doc/sealpost; every package carries the templates', () => {
    const builder = readFileSync(path.join(dir, '../../electron-builder.yml'), 'utf8');
    expect(builder).toMatch(/^\s+- resources\/policy\/policy\.example\.json=\/usr\/share\/doc\/sealpost\/policy\.example\.json$/m);
    expect(builder).toMatch(/- from: resources\/policy\n\s+to: policy/);
  });
});
