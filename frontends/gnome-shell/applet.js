/* applet.js — the applet as a whole: one client of voipd, the panel
 * indicator and the notifications, made on enable and gone on disable.
 *
 * It takes its imports and the other modules' classes as parameters (see
 * extension.js), so that the Shell-version specific part stays in the
 * extension's entry point.
 */

/* exported defineApplet */

/** @param {import('./shell-deps.js').AppletDeps} deps the imports (shell-deps.d.ts) */
function defineApplet({Main, VoipClient, Indicator, Notifier}) {
    /* the name in Main.panel.statusArea */
    const ROLE = 'voip';

    function reportError(what, error) {
        log(`[voip] ${what}: ${error.message}`);
        Main.notifyError(what, error.message);
    }

    class Applet {
        enable() {
            this._client = new VoipClient();
            /* @girs types the constructor of the GObject class, not _init() */
            // @ts-expect-error
            this._indicator = new Indicator(this._client, reportError);
            Main.panel.addToStatusArea(ROLE, this._indicator);
            this._notifier = new Notifier(this._client, reportError);
            this._client.start();
        }

        disable() {
            this._notifier?.destroy();
            this._notifier = null;
            this._indicator?.destroy();
            this._indicator = null;
            this._client?.destroy();
            this._client = null;
        }
    }

    return {Applet};
}
