// Stand-in for resource:///org/gnome/shell/extensions/extension.js (see
// ../README.md): the base class takes the metadata (with its path, as the
// Shell's extension manager gives it) and binds the gettext domain.
import Gio from 'gi://Gio';
import Gettext from 'gettext';

export class Extension {
    constructor(metadata) {
        if (this.constructor === Extension)
            throw new Error('Extension is abstract');
        if (!metadata)
            throw new Error(`${this.constructor.name} did not pass metadata to parent`);
        this.metadata = metadata;
        this.uuid = metadata.uuid;
        this.path = metadata.path;
        this.dir = Gio.File.new_for_path(metadata.path);
        Gettext.bindtextdomain(metadata['gettext-domain'] ?? this.uuid,
            this.dir.get_child('locale').get_path());
    }

    enable() {
    }

    disable() {
    }
}

export function gettext(msgid) {
    return Gettext.dgettext('voip', msgid);
}

export function ngettext(msgid, msgidPlural, n) {
    return Gettext.dngettext('voip', msgid, msgidPlural, n);
}
