/**
 * The JupyterLab dialogs the panel's commands use: a confirmation, a choice from a list, and
 * a small form (labelled fields) whose values come back typed as text.
 */
import { Dialog, InputDialog, showDialog } from '@jupyterlab/apputils';
import { ReactWidget } from '@jupyterlab/ui-components';
import { Widget } from '@lumino/widgets';
import React from 'react';

/** Ask before doing something; resolves true when the user accepts. */
export async function confirm(
  title: string,
  body: string | Widget,
  label: string,
  destructive = false
): Promise<boolean> {
  const result = await showDialog({
    title,
    body,
    buttons: [
      Dialog.cancelButton(),
      destructive ? Dialog.warnButton({ label }) : Dialog.okButton({ label })
    ]
  });
  return result.button.accept;
}

/** Let the user choose one of `items` (null when cancelled or when there is none). */
export async function choose(
  title: string,
  label: string,
  items: string[]
): Promise<string | null> {
  if (!items.length) {
    return null;
  }
  const result = await InputDialog.getItem({ title, label, items });
  return result.button.accept ? result.value : null;
}

/** One field of a {@link FormBody}. */
export interface IFormField {
  /** Key in the returned values. */
  key: string;
  /** What the user reads next to it. */
  label: string;
  /** Initial text. */
  value: string;
  /** text (default), textarea, checkbox ("true"/"false"), or a list of choices. */
  kind?: 'text' | 'textarea' | 'checkbox' | string[];
  /** Greyed hint inside an empty field. */
  placeholder?: string;
}

function initialValues(fields: IFormField[]): Record<string, string> {
  const values: Record<string, string> = {};
  for (const f of fields) {
    values[f.key] = f.value;
  }
  return values;
}

function FormView(props: {
  fields: IFormField[];
  hint?: string;
  onChange: (values: Record<string, string>) => void;
}): JSX.Element {
  const [values, setValues] = React.useState<Record<string, string>>(
    initialValues(props.fields)
  );
  const set = (key: string, value: string) => {
    const next = { ...values, [key]: value };
    setValues(next);
    props.onChange(next);
  };
  return (
    <div className="jp-mlops-form">
      {props.hint && <span className="jp-mlops-form-hint">{props.hint}</span>}
      {props.fields.map(f => {
        const id = `jp-mlops-form-${f.key}`;
        const common = {
          id,
          'aria-label': f.label,
          placeholder: f.placeholder
        };
        let input: JSX.Element;
        if (Array.isArray(f.kind)) {
          input = (
            <select
              {...common}
              className="jp-mlops-select"
              value={values[f.key]}
              onChange={e => set(f.key, e.target.value)}
            >
              {f.kind.map(choice => (
                <option key={choice} value={choice}>
                  {choice}
                </option>
              ))}
            </select>
          );
        } else if (f.kind === 'checkbox') {
          input = (
            <input
              {...common}
              type="checkbox"
              checked={values[f.key] === 'true'}
              onChange={e => set(f.key, e.target.checked ? 'true' : 'false')}
            />
          );
        } else if (f.kind === 'textarea') {
          input = (
            <textarea
              {...common}
              className="jp-mlops-input"
              value={values[f.key]}
              onChange={e => set(f.key, e.target.value)}
            />
          );
        } else {
          input = (
            <input
              {...common}
              className="jp-mlops-input"
              value={values[f.key]}
              onChange={e => set(f.key, e.target.value)}
            />
          );
        }
        return (
          <React.Fragment key={f.key}>
            <label htmlFor={id}>{f.label}</label>
            {input}
          </React.Fragment>
        );
      })}
    </div>
  );
}

/** A dialog body of labelled fields. */
export class FormBody
  extends ReactWidget
  implements Dialog.IBodyWidget<Record<string, string>>
{
  /** @param fields the fields, in order; @param hint a line above them. */
  constructor(
    private readonly fields: IFormField[],
    private readonly hint?: string
  ) {
    super();
    this.values = initialValues(fields);
  }

  /** The fields' current text by key. */
  getValue(): Record<string, string> {
    return this.values;
  }

  render(): JSX.Element {
    return (
      <FormView
        fields={this.fields}
        hint={this.hint}
        onChange={values => (this.values = values)}
      />
    );
  }

  private values: Record<string, string>;
}

/** Show a form; resolves with its values, or null when cancelled. */
export async function askForm(
  title: string,
  fields: IFormField[],
  label: string,
  hint?: string
): Promise<Record<string, string> | null> {
  const result = await showDialog({
    title,
    body: new FormBody(fields, hint),
    buttons: [Dialog.cancelButton(), Dialog.okButton({ label })],
    focusNodeSelector: 'input, textarea, select'
  });
  return result.button.accept ? (result.value ?? null) : null;
}

/** A static React body for a dialog (a table of results, a message with details). */
export function reactBody(element: JSX.Element): Widget {
  return ReactWidget.create(element);
}
