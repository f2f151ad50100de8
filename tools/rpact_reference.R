#!/usr/bin/env Rscript
# Reference values from the R package rpact for trialcode's statistics engine.
#
#   Rscript tools/rpact_reference.R [OUT.json]     (default tests/stats/fixtures/rpact_reference.json)
#
# Needs R, rpact and jsonlite (Debian: apt-get install r-base-core r-cran-rpact). For a grid of
# group sequential designs (K = 1..5, one- and two-sided, classical and error-spending families,
# with and without beta-spending futility) it records rpact's boundaries and design
# characteristics, and for each design the sample sizes of getSampleSizeSurvival,
# getSampleSizeRates and getSampleSizeMeans under several assumptions (allocation ratios,
# dropout, one and two groups, t test and normal approximation). The file records the rpact and
# R versions; tests/stats/test_rpact_reference.py compares trialcode with it without needing R.
suppressPackageStartupMessages({
  library(rpact)
  library(jsonlite)
})

args <- commandArgs(trailingOnly = TRUE)
out <- if (length(args) >= 1) args[1] else "tests/stats/fixtures/rpact_reference.json"

# ---- the grid of designs ------------------------------------------------------------------
# type: rpact typeOfDesign; param: its parameter (deltaWT, gammaA, constantBoundsHP, deltaPT1)
# or NA; betaSpending: rpact typeBetaSpending, "PT" (Pampallona-Tsiatis, gammaB = deltaPT0) or
# "z" (futilityZ: futility bounds on the Z scale); userAlpha, userBeta: cumulative fractions of
# alpha and beta spent by each look (asUser, bsUser).
families <- list(
  list(type = "OF", param = NA), list(type = "P", param = NA), list(type = "WT", param = 0.25),
  list(type = "asOF", param = NA), list(type = "asP", param = NA),
  list(type = "asKD", param = 2), list(type = "asHSD", param = -4)
)
spacing <- function(k, uneven) {
  if (!uneven || k == 1) return((1:k) / k)
  # earlier first look, the rest evenly spaced
  c(0.6 / k, seq(0.6 / k, 1, length.out = k)[-1])
}

designs <- list()
add_design <- function(spec) {
  designs[[length(designs) + 1]] <<- spec
}
for (k in 1:5) {
  for (sided in 1:2) {
    for (fam in families) {
      for (uneven in c(FALSE, TRUE)) {
        if (k == 1 && uneven) next
        add_design(list(kMax = k, sided = sided, alpha = if (sided == 1) 0.025 else 0.05,
                        beta = if (k %% 2 == 0) 0.1 else 0.2, type = fam$type, param = fam$param,
                        informationRates = spacing(k, uneven), betaSpending = "none",
                        gammaB = NA, binding = FALSE))
      }
    }
  }
}
# one-sided beta-spending futility (non-binding and binding)
for (k in 2:5) {
  for (fut in list(list(type = "bsHSD", gammaB = -2, binding = FALSE),
                   list(type = "bsOF", gammaB = NA, binding = FALSE),
                   list(type = "bsKD", gammaB = 2, binding = TRUE),
                   list(type = "bsP", gammaB = NA, binding = TRUE))) {
    for (eff in list(list(type = "asOF", param = NA), list(type = "asHSD", param = -2))) {
      add_design(list(kMax = k, sided = 1, alpha = 0.025, beta = 0.1, type = eff$type,
                      param = eff$param, informationRates = spacing(k, k >= 4),
                      betaSpending = fut$type, gammaB = fut$gammaB, binding = fut$binding))
    }
  }
}

# Haybittle-Peto with other interim bounds
for (k in 2:5) {
  for (sided in 1:2) {
    for (c in c(3, 3.29, 3.5)) {
      add_design(list(kMax = k, sided = sided, alpha = if (sided == 1) 0.025 else 0.05,
                      beta = 0.2, type = "HP", param = c, informationRates = spacing(k, k > 3),
                      betaSpending = "none", gammaB = NA, binding = FALSE))
    }
  }
}
# Pampallona-Tsiatis (param = deltaPT1, gammaB = deltaPT0)
for (k in 2:5) {
  for (sided in 1:2) {
    for (deltas in list(c(0, 0), c(0.25, 0.25), c(0.5, 0.1))) {
      for (binding in c(FALSE, TRUE)) {
        add_design(list(kMax = k, sided = sided, alpha = if (sided == 1) 0.025 else 0.05,
                        beta = 0.2, type = "PT", param = deltas[1], informationRates = spacing(k, FALSE),
                        betaSpending = "PT", gammaB = deltas[2], binding = binding))
      }
    }
  }
}
# user-defined alpha and beta spending (cumulative fractions of alpha and of beta per look)
user_fractions <- list(`2` = c(0.25, 1), `3` = c(0.1, 0.4, 1), `4` = c(0.05, 0.2, 0.5, 1),
                       `5` = c(0.02, 0.1, 0.3, 0.6, 1))
user_beta <- list(`2` = c(0.3, 1), `3` = c(0.15, 0.5, 1), `4` = c(0.1, 0.3, 0.6, 1),
                  `5` = c(0.05, 0.2, 0.4, 0.7, 1))
for (k in 2:5) {
  for (sided in 1:2) {
    f <- user_fractions[[as.character(k)]]
    add_design(list(kMax = k, sided = sided, alpha = if (sided == 1) 0.025 else 0.05, beta = 0.1,
                    type = "asUser", param = NA, informationRates = spacing(k, FALSE),
                    userAlpha = f, betaSpending = "none", gammaB = NA, binding = FALSE))
    if (sided == 1) {
      for (binding in c(FALSE, TRUE)) {
        add_design(list(kMax = k, sided = 1, alpha = 0.025, beta = 0.1, type = "asUser",
                        param = NA, informationRates = spacing(k, FALSE), userAlpha = f,
                        betaSpending = "bsUser", userBeta = user_beta[[as.character(k)]],
                        gammaB = NA, binding = binding))
      }
    }
  }
}
# futility bounds on the Z scale (one-sided)
z_bounds <- list(`2` = c(0), `3` = c(0, 0.5), `4` = c(-0.5, 0, 0.5), `5` = c(-1, -0.5, 0, 0.5))
for (k in 2:5) {
  for (eff in list(list(type = "OF", param = NA), list(type = "asOF", param = NA),
                   list(type = "asHSD", param = -4))) {
    for (binding in c(FALSE, TRUE)) {
      add_design(list(kMax = k, sided = 1, alpha = 0.025, beta = 0.2, type = eff$type,
                      param = eff$param, informationRates = spacing(k, FALSE),
                      betaSpending = "z", futilityZ = z_bounds[[as.character(k)]],
                      gammaB = NA, binding = binding))
    }
  }
}
# two-sided beta spending (rpact: experimental)
for (k in 2:5) {
  for (fut in list(list(type = "bsOF", gammaB = NA), list(type = "bsHSD", gammaB = -2),
                   list(type = "bsP", gammaB = NA))) {
    for (eff in list(list(type = "asOF", param = NA), list(type = "asHSD", param = -4))) {
      for (binding in c(FALSE, TRUE)) {
        add_design(list(kMax = k, sided = 2, alpha = 0.05, beta = 0.2, type = eff$type,
                        param = eff$param, informationRates = spacing(k, FALSE),
                        betaSpending = fut$type, gammaB = fut$gammaB, binding = binding))
      }
    }
  }
}

make_design <- function(s) {
  a <- list(kMax = s$kMax, alpha = s$alpha, beta = s$beta, sided = s$sided,
            typeOfDesign = s$type, informationRates = s$informationRates)
  if (s$type == "WT") a$deltaWT <- s$param
  if (s$type %in% c("asKD", "asHSD")) a$gammaA <- s$param
  if (s$type == "HP") a$constantBoundsHP <- s$param
  if (s$type == "asUser") a$userAlphaSpending <- s$alpha * s$userAlpha
  if (s$type == "PT") {
    a$deltaPT1 <- s$param
    a$deltaPT0 <- s$gammaB
    a$bindingFutility <- s$binding
  } else if (s$betaSpending == "z") {
    a$futilityBounds <- s$futilityZ
    a$bindingFutility <- s$binding
  } else if (s$betaSpending != "none") {
    a$typeBetaSpending <- s$betaSpending
    a$bindingFutility <- s$binding
    if (!is.na(s$gammaB)) a$gammaB <- s$gammaB
    if (s$betaSpending == "bsUser") a$userBetaSpending <- s$beta * s$userBeta
  }
  do.call(getDesignGroupSequential, a)
}

num <- function(x) if (is.null(x)) NULL else as.numeric(x)

# ---- sample-size scenarios ----------------------------------------------------------------
survival_cases <- list(
  list(hazardRatio = 0.7, median2 = 12, accrualTime = 24, followUpTime = 12,
       dropoutRate1 = 0, dropoutRate2 = 0, dropoutTime = 12, allocationRatioPlanned = 1),
  list(hazardRatio = 0.6, median2 = 18, accrualTime = 18, followUpTime = 24,
       dropoutRate1 = 0.05, dropoutRate2 = 0.05, dropoutTime = 12, allocationRatioPlanned = 2),
  list(hazardRatio = 0.75, median2 = 9, accrualTime = 30, followUpTime = 6,
       dropoutRate1 = 0.1, dropoutRate2 = 0.05, dropoutTime = 12, allocationRatioPlanned = 0.5)
)
rates_cases <- list(
  list(groups = 2, pi1 = 0.5, pi2 = 0.3, allocationRatioPlanned = 1),
  list(groups = 2, pi1 = 0.25, pi2 = 0.4, allocationRatioPlanned = 2),
  list(groups = 1, pi1 = 0.4, thetaH0 = 0.2)
)
means_cases <- list(
  list(alternative = 5, stDev = 10, allocationRatioPlanned = 1, normalApproximation = FALSE),
  list(alternative = 3, stDev = 8, allocationRatioPlanned = 3, normalApproximation = TRUE),
  list(alternative = 0.5, stDev = 1, allocationRatioPlanned = 0.5, normalApproximation = FALSE)
)

records <- list()
skipped <- list()
for (i in seq_along(designs)) {
  s <- designs[[i]]
  d <- tryCatch(make_design(s), error = function(e) e)
  if (inherits(d, "error")) {
    skipped[[length(skipped) + 1]] <- list(design = s, error = conditionMessage(d))
    next
  }
  ch <- getDesignCharacteristics(d)
  rec <- s
  rec$id <- i
  rec$criticalValues <- num(d$criticalValues)
  rec$futilityBounds <- if (s$betaSpending != "none") num(d$futilityBounds) else list()
  rec$alphaSpent <- num(d$alphaSpent)
  rec$inflationFactor <- num(ch$inflationFactor)
  rec$shift <- num(ch$shift)
  rec$averageSampleNumber0 <- num(ch$averageSampleNumber0)
  rec$averageSampleNumber1 <- num(ch$averageSampleNumber1)
  rec$power <- num(ch$power)
  rec$rejectionProbabilities <- num(ch$rejectionProbabilities)
  rec$futilityProbabilities <- if (s$betaSpending != "none") num(ch$futilityProbabilities) else list()

  rec$survival <- lapply(survival_cases, function(c) {
    r <- do.call(getSampleSizeSurvival, c(list(design = d), c))
    list(input = c, eventsFixed = num(r$eventsFixed), maxNumberOfEvents = num(r$maxNumberOfEvents),
         eventsPerStage = num(r$eventsPerStage), maxNumberOfSubjects = num(r$maxNumberOfSubjects),
         analysisTime = num(r$analysisTime), numberOfSubjects = num(r$numberOfSubjects),
         expectedEventsH0 = num(r$expectedEventsH0), expectedEventsH1 = num(r$expectedEventsH1),
         expectedNumberOfSubjectsH1 = num(r$expectedNumberOfSubjectsH1),
         studyDuration = num(r$studyDuration))
  })
  rec$rates <- lapply(rates_cases, function(c) {
    r <- do.call(getSampleSizeRates, c(list(design = d), c))
    list(input = c, nFixed = num(r$nFixed), maxNumberOfSubjects = num(r$maxNumberOfSubjects),
         numberOfSubjects = num(r$numberOfSubjects),
         expectedNumberOfSubjectsH0 = num(r$expectedNumberOfSubjectsH0),
         expectedNumberOfSubjectsH1 = num(r$expectedNumberOfSubjectsH1))
  })
  rec$means <- lapply(means_cases, function(c) {
    r <- do.call(getSampleSizeMeans, c(list(design = d), c))
    list(input = c, nFixed = num(r$nFixed), maxNumberOfSubjects = num(r$maxNumberOfSubjects),
         numberOfSubjects = num(r$numberOfSubjects),
         expectedNumberOfSubjectsH0 = num(r$expectedNumberOfSubjectsH0),
         expectedNumberOfSubjectsH1 = num(r$expectedNumberOfSubjectsH1))
  })
  records[[length(records) + 1]] <- rec
}

result <- list(
  generated_by = "tools/rpact_reference.R",
  rpact_version = as.character(packageVersion("rpact")),
  r_version = R.version.string,
  designs = records,
  skipped = skipped
)
writeLines(toJSON(result, auto_unbox = TRUE, digits = NA, null = "null", na = "null",
                  pretty = TRUE), out)
cat(sprintf("%d designs (%d skipped) written to %s with rpact %s\n", length(records),
            length(skipped), out, result$rpact_version))
