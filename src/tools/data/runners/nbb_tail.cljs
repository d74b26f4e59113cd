
;; ---- end of the phase's code ----
))
(windlass-write {:kind "value" :value windlass-result})
