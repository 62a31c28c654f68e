/**
 * Palette commands of the model registry: edit, set and delete an alias, promote through the
 * gate. Each takes its target from the arguments (the view's buttons pass them), else from what
 * the Models view has open, else asks; anything that moves an alias asks for confirmation.
 */
import { Notification, showDialog, Dialog } from '@jupyterlab/apputils';
import { CommandRegistry } from '@lumino/commands';
import type { ReadonlyPartialJSONObject } from '@lumino/coreutils';
import React from 'react';

import { MlopsAPI, listModelVersions, listModels } from '../api';
import { askForm, choose, confirm, reactBody } from '../panel/dialogs';
import { PanelAction, panelCommandAdder } from '../panel/commands';
import type { MlopsPanel } from '../panel/side-panel';
import { CommandIDs } from '../tokens';
import {
  formatTags,
  gateReason,
  gateValue,
  parseConditions,
  parseTags
} from './models-model';

/** The pass/fail table of a promotion gate. */
export function GateTable(props: {
  result: MlopsAPI.IPromoteModelResponse;
}): JSX.Element {
  const { result } = props;
  return (
    <div className="jp-mlops-gate-result">
      <p>
        {result.passed
          ? result.move
            ? `${result.name}@${result.alias} now points at v${result.candidate_version}.`
            : `Every check passed for v${result.candidate_version}.`
          : `${result.name}@${result.alias} was not moved: ${
              result.checks.filter(c => !c.passed).length
            } check(s) failed.`}
      </p>
      <table className="jp-mlops-table jp-mlops-gate">
        <thead>
          <tr>
            <th>Check</th>
            <th>Candidate</th>
            <th>Reference</th>
            <th>Result</th>
            <th>Why</th>
          </tr>
        </thead>
        <tbody>
          {result.checks.map((c, i) => (
            <tr key={i} data-passed={c.passed}>
              <td>{c.condition}</td>
              <td>{gateValue(c.candidate)}</td>
              <td>{gateValue(c.reference)}</td>
              <td
                className={
                  c.passed ? 'jp-mlops-gate-pass' : 'jp-mlops-gate-fail'
                }
              >
                {c.passed ? 'pass' : 'FAIL'}
              </td>
              <td>{gateReason(c)}</td>
            </tr>
          ))}
          {result.checks.length === 0 && (
            <tr>
              <td colSpan={5}>No conditions: the gate passes.</td>
            </tr>
          )}
        </tbody>
      </table>
    </div>
  );
}

async function modelName(panel: MlopsPanel, args: ReadonlyPartialJSONObject) {
  const given = (args.name as string | undefined) ?? panel.models.state.model;
  if (given) {
    return given;
  }
  const page = await listModels({ limit: 500 });
  return choose(
    'Which model?',
    'Model',
    page.models.map(m => m.name)
  );
}

async function versionNumber(
  panel: MlopsPanel,
  name: string,
  args: ReadonlyPartialJSONObject
): Promise<number | null> {
  if (typeof args.version === 'number') {
    return args.version;
  }
  const state = panel.models.state;
  if (state.model === name && state.version !== null) {
    return state.version;
  }
  const page = await listModelVersions(name, { limit: 500 });
  const picked = await choose(
    `Which version of ${name}?`,
    'Version',
    page.versions.map(v => `v${v.version}`)
  );
  return picked ? Number(picked.slice(1)) : null;
}

async function editModel(panel: MlopsPanel, args: ReadonlyPartialJSONObject) {
  const name = await modelName(panel, args);
  if (!name) {
    return;
  }
  const state = panel.models.state;
  const version =
    typeof args.version === 'number'
      ? args.version
      : state.model === name
        ? state.version
        : null;
  if (version === null) {
    const summary = panel.models.state.models.find(m => m.name === name);
    const tagsBefore = summary?.tags ?? {};
    const values = await askForm(
      `Edit ${name}`,
      [
        {
          key: 'description',
          label: 'Description',
          value: summary?.description ?? '',
          kind: 'textarea'
        },
        {
          key: 'tags',
          label: 'Tags',
          value: formatTags(tagsBefore),
          placeholder: 'team=retention, owner=ana'
        }
      ],
      'Save'
    );
    if (!values) {
      return;
    }
    const parsed = parseTags(values.tags);
    if (parsed.errors.length) {
      Notification.error(parsed.errors.join(' '), { autoClose: 8000 });
      return;
    }
    await panel.models.editModel(
      name,
      values.description.trim(),
      tagsBefore,
      parsed.tags
    );
    Notification.success(`Saved ${name}.`, { autoClose: 4000 });
    return;
  }
  const detail = state.detail;
  const before = detail?.version === version ? detail.tags : {};
  const values = await askForm(
    `Edit ${name} v${version}`,
    [
      {
        key: 'description',
        label: 'Description',
        value: detail?.description ?? '',
        kind: 'textarea'
      },
      {
        key: 'tags',
        label: 'Tags',
        value: formatTags(before),
        placeholder: 'team=growth, reviewed=yes'
      }
    ],
    'Save'
  );
  if (!values) {
    return;
  }
  const { tags, errors } = parseTags(values.tags);
  if (errors.length) {
    Notification.error(errors.join(' '), { autoClose: 8000 });
    return;
  }
  await panel.models.editVersion(
    name,
    version,
    values.description.trim(),
    before,
    tags
  );
  Notification.success(`Saved ${name} v${version}.`, { autoClose: 4000 });
}

async function setAlias(panel: MlopsPanel, args: ReadonlyPartialJSONObject) {
  const name = await modelName(panel, args);
  const version = name ? await versionNumber(panel, name, args) : null;
  if (!name || version === null) {
    return;
  }
  const values = await askForm(
    `Set an alias of ${name} v${version}`,
    [
      {
        key: 'alias',
        label: 'Alias',
        value: (args.alias as string) ?? 'production'
      },
      {
        key: 'reason',
        label: 'Reason',
        value: '',
        placeholder: 'recorded in the alias history'
      }
    ],
    'Next'
  );
  const alias = values?.alias.trim();
  if (!values || !alias) {
    return;
  }
  const now = panel.models.state.models.find(m => m.name === name)?.aliases[
    alias
  ];
  const ok = await confirm(
    `Point ${name}@${alias} at v${version}?`,
    now === undefined
      ? `${name}@${alias} is new. Servers deployed as ${name}@${alias} later serve v${version}.`
      : `${name}@${alias} points at v${now} now. Running servers of ${name}@${alias} keep v${now} until they are redeployed.`,
    'Set alias'
  );
  if (!ok) {
    return;
  }
  await panel.models.setAlias(
    name,
    alias,
    version,
    values.reason.trim() || undefined
  );
  Notification.success(`${name}@${alias} → v${version}`, { autoClose: 4000 });
}

async function deleteAlias(panel: MlopsPanel, args: ReadonlyPartialJSONObject) {
  const name = await modelName(panel, args);
  if (!name) {
    return;
  }
  const aliases =
    panel.models.state.models.find(m => m.name === name)?.aliases ?? {};
  const alias =
    (args.alias as string | undefined) ??
    (await choose(
      `Remove which alias of ${name}?`,
      'Alias',
      Object.keys(aliases)
    ));
  if (!alias) {
    return;
  }
  const ok = await confirm(
    `Remove ${name}@${alias}?`,
    `Loading or deploying ${name}@${alias} fails until it is set again. The move is kept in the alias history.`,
    'Remove alias',
    true
  );
  if (ok) {
    await panel.models.deleteAlias(name, alias);
    Notification.success(`Removed ${name}@${alias}.`, { autoClose: 4000 });
  }
}

/** Ask whether servers following the alias should serve the promoted version now. */
async function offerRedeploy(
  panel: MlopsPanel,
  result: MlopsAPI.IPromoteModelResponse
) {
  await panel.deployments.refresh().catch(() => undefined);
  const following = panel.deployments.state.deployments.filter(
    d =>
      d.model === result.name &&
      d.alias === result.alias &&
      d.status === 'running'
  );
  if (!following.length || !result.move) {
    return;
  }
  const ref = `${result.name}@${result.alias}`;
  const ok = await confirm(
    `Redeploy ${ref}?`,
    `${following.length} server(s) of ${ref} still serve v${following[0].health.serving_version ?? following[0].version}. ` +
      `Redeploying replaces them with v${result.candidate_version} on the same port, without dropping requests.`,
    'Redeploy'
  );
  if (ok) {
    panel.showTab('deployments');
    const progress = await panel.deployments.deploy({ ref });
    (progress.phase === 'done' ? Notification.success : Notification.error)(
      progress.message,
      {
        autoClose: 6000
      }
    );
  }
}

async function promote(panel: MlopsPanel, args: ReadonlyPartialJSONObject) {
  const name = await modelName(panel, args);
  const version = name ? await versionNumber(panel, name, args) : null;
  if (!name || version === null) {
    return;
  }
  const values = await askForm(
    `Promote ${name} v${version}`,
    [
      {
        key: 'alias',
        label: 'To alias',
        value: (args.alias as string) ?? 'production'
      },
      {
        key: 'require',
        label: 'Conditions',
        value: ((args.require as string[] | undefined) ?? []).join('\n'),
        kind: 'textarea',
        placeholder: 'metrics.accuracy >= 0.9 (one a line)'
      },
      {
        key: 'better',
        label: 'Must beat the alias on',
        value: '',
        placeholder: 'metric name (optional)'
      },
      {
        key: 'direction',
        label: 'Better is',
        value: 'higher',
        kind: ['higher', 'lower']
      }
    ],
    'Promote',
    'The alias moves only if every check passes; the pass/fail table shows either way.'
  );
  if (!values || !values.alias.trim()) {
    return;
  }
  const alias = values.alias.trim();
  const body: MlopsAPI.IPromoteModelRequest = {
    version,
    alias,
    require: parseConditions(values.require)
  };
  if (values.better.trim()) {
    body.better_than = alias;
    body.metric = values.better.trim();
    body.maximize = values.direction === 'higher';
  }
  const result = await panel.models.promote(name, body);
  await showDialog({
    title: result.passed
      ? `Promoted ${name} v${version} to ${alias}`
      : `Not promoted: the gate failed for ${name} v${version}`,
    body: reactBody(<GateTable result={result} />),
    buttons: [Dialog.okButton({ label: 'Close' })]
  });
  if (result.passed) {
    Notification.success(`${name}@${alias} → v${version}`, { autoClose: 4000 });
    await offerRedeploy(panel, result);
  } else {
    Notification.warning(
      `${name} v${version} was not promoted: see the failed checks.`,
      {
        autoClose: 6000
      }
    );
  }
}

/** Register the model registry's commands. */
export function registerModelCommands(
  commands: CommandRegistry,
  panel: MlopsPanel
): void {
  const addCommand = panelCommandAdder(commands, panel);
  const add = (id: string, label: string, caption: string, run: PanelAction) =>
    addCommand(id, label, run, caption);
  add(
    CommandIDs.editModel,
    'Edit a model’s description and tags',
    'Describe a model or tag one of its versions',
    editModel
  );
  add(
    CommandIDs.setAlias,
    'Set a model alias',
    'Point an alias (production, staging…) at a version',
    setAlias
  );
  add(
    CommandIDs.deleteAlias,
    'Remove a model alias',
    'Remove an alias of a model',
    deleteAlias
  );
  add(
    CommandIDs.promoteModel,
    'Promote a model version',
    'Move an alias through the promotion gate',
    promote
  );
}
