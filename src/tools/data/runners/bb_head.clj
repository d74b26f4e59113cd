;; The clojure_data runner of windlass for Babashka: bb runner.clj CONTEXT.json RESULT.json
;; `data` has kebab-case keyword keys; the value of the phase's last expression is written to
;; RESULT.json as {"kind": "value", "value"}, or {"error"}.
(require '[cheshire.core :as windlass-json] '[clojure.string])
(def windlass-args *command-line-args*)
(def windlass-context (windlass-json/parse-string (slurp (first windlass-args)) true))
(def data (:data windlass-context))
(def state (:state windlass-context))
(def input (:input windlass-context))
(def windlass-code (:code windlass-context))
(spit (second windlass-args)
      (windlass-json/generate-string
       (try
         {:kind "value" :value (load-string windlass-code)}
         (catch Throwable e
           (binding [*out* *err*] (println (str e)))
           {:error (str (.getSimpleName (class e)) ": " (ex-message e))}))))
