
// ---- end of the phase's code ----
})().then(
  (returned) => {
    if (result === undefined) result = returned;
    if (result === undefined) {
      __windlass_write({ error: "the code must set the variable `result` (for example: result = rows)" });
    } else {
      __windlass_write({ kind: "value", value: result });
    }
  },
  (err) => {
    console.error(err && err.stack ? err.stack : String(err));
    __windlass_write({ error: String(err && err.message ? `${err.name || "Error"}: ${err.message}` : err) });
  },
);
