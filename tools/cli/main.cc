// diffmesh: the command-line program.
//
//   diffmesh profile FILE [--then FILE2 ...] [--format json|table] [--key
//   COL]...
//                    [--contract CONTRACT.yaml [--object NAME]
//                     [--allow-unenforced]]
//
// Exit status: 0 on success, 1 for an error (printed to stderr with what
// and where), 2 for bad arguments, 3 when a check of severity "error"
// fails at the last version (the output is complete).
#include <iostream>

#include "CLI/CLI.hpp"
#include "tools/cli/profile_command.h"

int main(int argc, char** argv) {
  CLI::App app{"diffmesh: a data mesh on a differential dataflow engine"};
  app.require_subcommand(1);

  diffmesh::ProfileArgs profile;
  CLI::App* profile_cmd = app.add_subcommand(
      "profile",
      "Quality metrics of a CSV, JSON or JSON Lines file, and of each later "
      "version of it (--then), kept incrementally");
  profile_cmd->add_option("file", profile.file, "the file to profile")
      ->required();
  profile_cmd->add_option(
      "--then", profile.then,
      "later versions of the file, in order: only what changed is printed");
  profile_cmd
      ->add_option("--format", profile.format,
                   "json (one line per version) "
                   "or table")
      ->check(CLI::IsMember({"json", "table"}));
  profile_cmd->add_option("--key", profile.keys,
                          "a key column (repeat for several): report the "
                          "rows that duplicate another's key");
  profile_cmd->add_option("--contract", profile.contract,
                          "an ODCS v3 data contract (YAML) to check");
  profile_cmd->add_option(
      "--object", profile.object,
      "the contract's schema object to check, when it has several");
  profile_cmd->add_flag("--allow-unenforced", profile.allow_unenforced,
                        "list sql and custom rules as not enforced instead "
                        "of refusing the contract");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }
  if (profile_cmd->parsed()) {
    absl::StatusOr<diffmesh::ProfileOutcome> outcome =
        diffmesh::RunProfile(profile, std::cout, std::cerr);
    if (!outcome.ok()) {
      std::cerr << "diffmesh profile: " << outcome.status().message()
                << std::endl;
      return 1;
    }
    if (outcome->failing_error_checks > 0) {
      std::cerr << "diffmesh profile: " << outcome->failing_error_checks
                << " check(s) of severity error fail" << std::endl;
      return 3;
    }
  }
  return 0;
}
