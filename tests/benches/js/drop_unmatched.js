// The drop-unmatched filter in JavaScript, for `make bench`'s per-language call cost (built
// with componentize-js when scripts/bench-tools.sh could install it from npm).

export const filterApi = {
  filter(event) {
    const m = event.match;
    if (m && m.matched === false) {
      return { tag: 'drop', val: 'unmatched' };
    }
    return { tag: 'keep' };
  },
};
