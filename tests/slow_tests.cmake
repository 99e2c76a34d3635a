# The GoogleTest tests that take over ~5 s each on a 2-core machine (ctest's own timings,
# build/Testing/Temporary/CTestCostData.txt after a run): labelled `slow` as well as their
# suite's label, so `make test-fast` (ctest -L 'unit|cli|regression' -LE slow) leaves them out.
# Included by ctest after the discovered tests (tests/CMakeLists.txt); a name no longer
# discovered is ignored. Keep each entry's first label that of its suite.
set_tests_properties(
  LogitStoreErrors.FilesThatCrashTheHdf5LibraryAreOneInputError
  QuantizedStore.BoundsHoldOnEverySmolLm2Head
  QuantizedStore.SearchCertifiesStoreRows
  QuantizedStore.BoundsHoldOnEveryMiniLmHead
  FiniteNRule.KeptProbabilityIsAProbabilityFallingWithQ
  PROPERTIES LABELS "unit;slow")
set_tests_properties(
  RunCliTest.CertifiedRunKilledMidwayResumesToIdenticalTables
  MemoryCli.OutputErrorsOfALargeKeySetFitInMemoryLinearInN
  RunCliResumeTest.CtrlCResumesToIdenticalDataEvenWithADamagedPointFile
  RunCliResumeTest.RunWithoutResumeDiscardsAnOldCheckpoint
  RunCliResumeTest.KilledRunResumesToIdenticalData
  RowCli.AgreesWithNumpyReference
  PROPERTIES LABELS "cli;slow")
