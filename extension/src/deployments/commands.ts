/**
 * Palette commands of deployments: deploy, stop, roll back, copy the URL. Deploy, stop and
 * rollback change what is served, so each asks for confirmation first; deploy and rollback then
 * show their progress in the Deployments view until the health check passes or fails.
 */
import { Clipboard, Notification } from '@jupyterlab/apputils';
import { CommandRegistry } from '@lumino/commands';
import type { ReadonlyPartialJSONObject } from '@lumino/coreutils';

import { MlopsAPI, getModelVersion, listDeployments, listModels } from '../api';
import { askForm, choose, confirm } from '../panel/dialogs';
import { panelCommandAdder } from '../panel/commands';
import type { MlopsPanel } from '../panel/side-panel';
import { CommandIDs } from '../tokens';
import { deployRefs, parsePort } from './deploy-refs';
import { IProgress, isLive } from './deployments-model';

function notifyProgress(progress: IProgress): void {
  (progress.phase === 'done' ? Notification.success : Notification.error)(
    progress.message,
    {
      autoClose: 8000
    }
  );
}

async function deploymentOf(
  panel: MlopsPanel,
  args: ReadonlyPartialJSONObject,
  title: string
): Promise<MlopsAPI.IDeployment | null> {
  const page = await listDeployments({ live: true, limit: 200 });
  const id =
    typeof args.id === 'number'
      ? args.id
      : (panel.deployments.state.open ??
        Number(
          (
            await choose(
              title,
              'Deployment',
              page.deployments.map(d => `#${d.id} ${d.ref}`)
            )
          )
            ?.split(' ')[0]
            .slice(1) ?? NaN
        ));
  const all = [...page.deployments, ...panel.deployments.state.deployments];
  const dep = all.find(d => d.id === id) ?? null;
  if (!dep && !Number.isNaN(id)) {
    Notification.warning(`Deployment #${id} is not live any more.`, {
      autoClose: 5000
    });
  }
  return dep;
}

async function deploy(panel: MlopsPanel, args: ReadonlyPartialJSONObject) {
  let ref = args.ref as string | undefined;
  let refs: string[] = [];
  const match = ref ? /^([^/@]+)\/(\d+)$/.exec(ref) : null;
  if (match) {
    const detail = await getModelVersion(match[1], Number(match[2]));
    refs = deployRefs(detail.name, detail.version, detail.aliases);
  } else if (!ref) {
    const page = await listModels({ limit: 500 });
    for (const m of page.models) {
      refs.push(...Object.keys(m.aliases).map(a => `${m.name}@${a}`), m.name);
    }
    if (!refs.length) {
      Notification.warning(
        'No model is registered yet: log one with mlops.log_model first.',
        {
          autoClose: 6000
        }
      );
      return;
    }
  } else {
    refs = [ref];
  }
  const values = await askForm(
    'Deploy a model',
    [
      { key: 'ref', label: 'Serve', value: refs[0], kind: refs },
      {
        key: 'port',
        label: 'Port',
        value: '',
        placeholder: 'first free from 5005'
      }
    ],
    'Next',
    'An alias (name@production) follows promotions and rollbacks; name/3 stays on version 3.'
  );
  if (!values) {
    return;
  }
  ref = values.ref;
  const { port, error } = parsePort(values.port);
  if (error) {
    Notification.error(error, { autoClose: 8000 });
    return;
  }
  const ok = await confirm(
    `Deploy ${ref}?`,
    `This starts a model server for ${ref} on 127.0.0.1${port ? `:${port}` : ''}. ` +
      'If one already serves it, the new version replaces it on the same port.',
    'Deploy'
  );
  if (!ok) {
    return;
  }
  panel.showTab('deployments');
  notifyProgress(await panel.deployments.deploy({ ref, port }));
}

async function stop(panel: MlopsPanel, args: ReadonlyPartialJSONObject) {
  const dep = await deploymentOf(panel, args, 'Stop which deployment?');
  if (!dep) {
    return;
  }
  const ok = await confirm(
    `Stop deployment #${dep.id}?`,
    `${dep.ref} at ${dep.url} stops answering; clients get connection errors.`,
    'Stop',
    true
  );
  if (ok) {
    await panel.deployments.stop(dep.id);
    Notification.success(`Stopped #${dep.id} (${dep.ref}).`, {
      autoClose: 4000
    });
  }
}

async function rollback(panel: MlopsPanel, args: ReadonlyPartialJSONObject) {
  const dep = await deploymentOf(panel, args, 'Roll back which deployment?');
  if (!dep) {
    return;
  }
  if (!dep.alias || !isLive(dep)) {
    Notification.warning(
      `#${dep.id} serves the pinned version ${dep.ref}; only a deployment of an alias rolls back. Deploy another version instead.`,
      { autoClose: 8000 }
    );
    return;
  }
  const ok = await confirm(
    `Roll back ${dep.model}@${dep.alias}?`,
    `${dep.model}@${dep.alias} moves back to the version it pointed at before v${
      dep.health.serving_version ?? dep.version
    }, and its servers are replaced on the same port.`,
    'Rollback',
    true
  );
  if (!ok) {
    return;
  }
  panel.showTab('deployments');
  notifyProgress(await panel.deployments.rollback(dep));
}

async function copyUrl(panel: MlopsPanel, args: ReadonlyPartialJSONObject) {
  const dep = await deploymentOf(
    panel,
    args,
    'Copy the URL of which deployment?'
  );
  if (dep) {
    Clipboard.copyToSystem(dep.url);
    Notification.info(`Copied ${dep.url}`, { autoClose: 3000 });
  }
}

/** Register the deployments' commands. */
export function registerDeploymentCommands(
  commands: CommandRegistry,
  panel: MlopsPanel
): void {
  const add = panelCommandAdder(commands, panel);
  add(CommandIDs.deployModel, 'Deploy a model', deploy);
  add(CommandIDs.stopDeployment, 'Stop a deployment', stop);
  add(CommandIDs.rollbackDeployment, 'Roll back a deployment', rollback);
  add(CommandIDs.copyDeploymentUrl, 'Copy a deployment’s URL', copyUrl);
}
