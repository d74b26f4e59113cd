;; The clojure_data runner of windlass for JVM Clojure (Debian's `clojure`, with
;; clojure.data.json on the classpath): clojure runner.clj CONTEXT.json RESULT.json
;; The same as the Babashka runner: `data` has kebab-case keyword keys; the value of the
;; phase's last expression is written to RESULT.json as {"kind": "value", "value"}, or {"error"}.
(try
  (require '[clojure.data.json :as windlass-json])
  (catch java.io.FileNotFoundException _
    (binding [*out* *err*]
      (println "clojure.data.json is not on the classpath: install Debian's libdata-json-clojure"
               "(windlass puts /usr/share/java/data.json.jar on CLASSPATH)"))
    (System/exit 1)))
(require '[clojure.string])
;; Characters as one-letter strings, as Babashka's cheshire writes them.
(extend java.lang.Character windlass-json/JSONWriter
        {:-write (fn [c out options] (windlass-json/-write (str c) out options))})
(def windlass-args *command-line-args*)
(def windlass-context (windlass-json/read-str (slurp (first windlass-args)) :key-fn keyword))
(def data (:data windlass-context))
(def state (:state windlass-context))
(def input (:input windlass-context))
(def windlass-code (:code windlass-context))
(defn windlass-error
  "`Class: message`; for an error the compiler wraps (all of them, in load-string), the one it
  wraps, after where a syntax error is."
  [e]
  (let [cause (ex-cause e)
        described (fn [t] (str (.getSimpleName (class t)) ": " (ex-message t)))]
    (cond
      (not (and cause (instance? clojure.lang.Compiler$CompilerException e))) (described e)
      (= :execution (:clojure.error/phase (ex-data e))) (described cause)
      :else (str (ex-message e) " " (described cause)))))
(spit (second windlass-args)
      (try
        ;; Written inside the try: lazy values are realised here, and a value JSON cannot hold
        ;; is an error of the phase.
        (windlass-json/write-str {:kind "value" :value (load-string windlass-code)})
        (catch Throwable e
          (let [error (windlass-error e)]
            (binding [*out* *err*] (println error))
            (windlass-json/write-str {:error error})))))
