import ArgumentParser
import Blockwise
import Foundation

struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The main job: check the machine, then train and show the loss going down.")

    @Option(help: "Training steps.")
    var steps = 200

    func run() throws {
        try Doctor().run()
        print("")
        var demo = WarmUpDemo()
        demo.steps = steps
        print("training a two-layer perceptron on Gaussian clusters (\(demo.samples) samples, \(demo.classes) classes)")
        let log = demo.run { s in print(String(format: "step %4d  loss %.4f  accuracy %.3f", s.step, s.loss, s.accuracy)) }
        if let first = log.first, let last = log.last, last.loss >= first.loss {
            throw ValidationError("the loss did not go down (\(first.loss) → \(last.loss))")
        }
    }
}
