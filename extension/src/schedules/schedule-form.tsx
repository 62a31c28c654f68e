/**
 * The "Schedule this notebook" form: cron, timezone, retries, timeout, catch-up, and one typed
 * field per parameter of the notebook's parameters cell with its default filled in. It is the
 * body of a JupyterLab dialog, so `getValue()` hands the dialog what the user typed.
 */
import { Dialog } from '@jupyterlab/apputils';
import { ReactWidget } from '@jupyterlab/ui-components';
import React from 'react';

import {
  CATCHUP_POLICIES,
  IParameterField,
  IScheduleFormValue,
  collectParameters,
  fieldText
} from './schedule-values';

export type { IParameterField, IScheduleFormValue } from './schedule-values';

interface IFormProps {
  fields: IParameterField[];
  path: string;
  onChange: (value: IScheduleFormValue) => void;
}

function browserTimezone(): string {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  } catch {
    return 'UTC';
  }
}

function ScheduleFormView(props: IFormProps): JSX.Element {
  const [name, setName] = React.useState('');
  const [cron, setCron] = React.useState('0 3 * * *');
  const [timezone, setTimezone] = React.useState(browserTimezone());
  const [timeout, setTimeoutText] = React.useState('');
  const [retries, setRetries] = React.useState('0');
  const [catchup, setCatchup] = React.useState<string>('latest');
  const [texts, setTexts] = React.useState<Record<string, string>>({});

  React.useEffect(() => {
    const { parameters, errors } = collectParameters(props.fields, texts);
    const seconds = timeout.trim() === '' ? null : Number(timeout);
    if (seconds !== null && !(seconds > 0)) {
      errors.push('Timeout must be a number of seconds above 0, or empty.');
    }
    const retryCount = Number(retries);
    if (!Number.isInteger(retryCount) || retryCount < 0) {
      errors.push('Retries must be a whole number, 0 or more.');
    }
    if (cron.trim().split(/\s+/).length !== 5) {
      errors.push(
        'Cron needs five fields (minute hour day month weekday), such as "0 3 * * *".'
      );
    }
    props.onChange({
      name: name.trim(),
      cron: cron.trim(),
      timezone: timezone.trim(),
      parameters,
      timeout: seconds,
      retries: Number.isInteger(retryCount) ? retryCount : 0,
      catchup,
      errors
    });
  }, [name, cron, timezone, timeout, retries, catchup, texts]);

  const input = (
    label: string,
    value: string,
    set: (v: string) => void,
    extra: Record<string, string> = {}
  ) => (
    <>
      <label htmlFor={`jp-mlops-schedule-${label}`}>{label}</label>
      <input
        id={`jp-mlops-schedule-${label}`}
        className="jp-mlops-input"
        aria-label={label}
        value={value}
        onChange={e => set(e.target.value)}
        {...extra}
      />
    </>
  );

  return (
    <div className="jp-mlops-form jp-mlops-schedule-form">
      <span className="jp-mlops-form-hint">{props.path}</span>
      {input('Name', name, setName, {
        placeholder: 'derived from the notebook'
      })}
      {input('Cron', cron, setCron)}
      {input('Timezone', timezone, setTimezone)}
      {input('Timeout (s)', timeout, setTimeoutText, { placeholder: 'none' })}
      {input('Retries', retries, setRetries, { type: 'number', min: '0' })}
      <label htmlFor="jp-mlops-schedule-catchup">Catch-up</label>
      <select
        id="jp-mlops-schedule-catchup"
        className="jp-mlops-select"
        aria-label="Catch-up"
        value={catchup}
        onChange={e => setCatchup(e.target.value)}
      >
        {CATCHUP_POLICIES.map(p => (
          <option key={p} value={p}>
            {p}
          </option>
        ))}
      </select>
      <span className="jp-mlops-form-hint">
        {props.fields.length
          ? 'Parameters (from the notebook’s parameters cell; defaults filled in):'
          : 'This notebook has no parameters cell: it runs as it is.'}
      </span>
      {props.fields.map(field => {
        const text = texts[field.name] ?? fieldText(field);
        const set = (v: string) => setTexts({ ...texts, [field.name]: v });
        const id = `jp-mlops-param-${field.name}`;
        return (
          <React.Fragment key={field.name}>
            <label htmlFor={id} title={`${field.name}: ${field.type}`}>
              {field.name} <span className="jp-mlops-muted">{field.type}</span>
            </label>
            {field.type === 'bool' ? (
              <input
                id={id}
                type="checkbox"
                aria-label={`parameter ${field.name}`}
                checked={text === 'true'}
                onChange={e => set(e.target.checked ? 'true' : 'false')}
              />
            ) : (
              <input
                id={id}
                className="jp-mlops-input"
                aria-label={`parameter ${field.name}`}
                type={
                  field.type === 'int' || field.type === 'float'
                    ? 'number'
                    : 'text'
                }
                step={field.type === 'int' ? '1' : 'any'}
                value={text}
                onChange={e => set(e.target.value)}
              />
            )}
          </React.Fragment>
        );
      })}
    </div>
  );
}

/** The form as a dialog body. */
export class ScheduleForm
  extends ReactWidget
  implements Dialog.IBodyWidget<IScheduleFormValue>
{
  /** @param path the notebook; @param fields its parameters. */
  constructor(
    private readonly path: string,
    private readonly fields: IParameterField[]
  ) {
    super();
    this.addClass('jp-mlops-dialog-body');
  }

  /** What the user typed, typed. */
  getValue(): IScheduleFormValue {
    return this.value;
  }

  render(): JSX.Element {
    return (
      <ScheduleFormView
        path={this.path}
        fields={this.fields}
        onChange={value => (this.value = value)}
      />
    );
  }

  private value: IScheduleFormValue = {
    name: '',
    cron: '0 3 * * *',
    timezone: 'UTC',
    parameters: {},
    timeout: null,
    retries: 0,
    catchup: 'latest',
    errors: []
  };
}
