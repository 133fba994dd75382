// Stand-in for resource:///org/gnome/shell/ui/main.js (see ../README.md).
export const panel = {
    statusArea: {},
    addToStatusArea(role, indicator) {
        this.statusArea[role] = indicator;
        return indicator;
    },
};

export const messageTray = {
    sources: [],
    add(source) {
        this.sources.push(source);
    },
};

export function notifyError(msg, details) {
    log(`notifyError: ${msg}: ${details}`);
}
