;; The clojure_data runner of windlass for nbb: nbb runner.cljs CONTEXT.json RESULT.json
;; `data` has kebab-case keyword keys; the value of the phase's last expression is written to
;; RESULT.json as {"kind": "value", "value"}, or {"error"}.
(ns windlass-phase
  (:require ["fs" :as windlass-fs]
            [clojure.string]))
(def windlass-args *command-line-args*)
(def windlass-context
  (js->clj (js/JSON.parse (windlass-fs/readFileSync (first windlass-args) "utf8")) :keywordize-keys true))
(def data (:data windlass-context))
(def state (:state windlass-context))
(def input (:input windlass-context))
(defn windlass-write [outcome]
  (windlass-fs/writeFileSync (second windlass-args) (js/JSON.stringify (clj->js outcome))))
(def windlass-result (do
;; ---- the phase's code ----
