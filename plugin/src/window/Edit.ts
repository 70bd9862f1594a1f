/**
 * Proximity.window.Edit: the base of our edit windows, as Proxmox.window.Edit is of PVE's: a
 * modal window around a form, a submit button that sends `toBody(values)` with `method` to
 * `path`, API field errors marked on the fields, other errors in a message box, and a
 * `saved` event (with the answer's data) before it closes.
 */
type Values = Record<string, string | number | boolean | undefined>;
type Form = {
  findField(name: string): { markInvalid(message: string): void } | null;
  isValid(): boolean;
  getValues(): Values;
};
type Self = ExtThis<Ext.window.IWindow> & {
  formItems: object[];
  formConfig?: object;
  submitText: string;
  method: string;
  path: string;
  toBody(values: Values): unknown;
  down(selector: string): { getForm(): Form };
  fireEvent(name: string, ...args: unknown[]): boolean;
  setLoading(loading: boolean | string): void;
  submit(): Promise<void>;
  close(): void;
};

Ext.define('Proximity.window.Edit', {
  extend: 'Ext.window.Window',

  modal: true,
  width: 420,
  layout: 'fit',
  resizable: false,
  submitText: 'OK',
  method: 'POST',

  /** The request body from the form's values (default: the values as they are). */
  toBody(values: Values): unknown {
    return values;
  },

  initComponent(this: Self) {
    this.items = [
      {
        xtype: 'form',
        bodyPadding: 10,
        border: false,
        defaults: { anchor: '100%', labelWidth: 120 },
        items: this.formItems,
        ...this.formConfig,
      },
    ];
    this.buttons = [
      { text: this.submitText, itemId: 'submit', handler: () => void this.submit() },
      { text: gettext('Cancel'), handler: () => this.close() },
    ];
    this.callParent();
  },

  async submit(this: Self) {
    const form = this.down('form').getForm();
    if (!form.isValid()) return;
    const body = this.toBody(form.getValues());
    this.setLoading(gettext('Please wait...'));
    try {
      const answer = await Proximity.Api.request(this.method, this.path, body);
      this.fireEvent('saved', answer.data);
      this.close();
    } catch (error) {
      if (this.isDestroyed) return;
      this.setLoading(false);
      Proximity.Utils.showError(error, form);
    }
  },
});

export {};
