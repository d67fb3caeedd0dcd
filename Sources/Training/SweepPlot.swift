import Foundation

/// An SVG plot of accuracy (or agreement) against mean cost over the threshold sweep, in the
/// style of the early-exit papers' trade-off figures: against their cost rate, and against the
/// path cost really spent, on which the chosen points are marked.
public enum SweepPlot {
    /// Only the points within `window` (a share: 0.08 = 8 points) below the backbone are drawn:
    /// the operating region, where a point of accuracy is worth seeing.
    public static func svg(points all: [SweepPoint], chosen: SweepPoint, perExit: SweepPoint?, backboneAccuracy: Double?,
                           title: String, window: Double = 0.08) -> String {
        let useAccuracy = backboneAccuracy != nil
        func metric(_ p: SweepPoint) -> Double { useAccuracy ? (p.accuracy ?? 0) : p.agreement }
        let floor = (backboneAccuracy ?? 1) - window
        let inWindow = all.filter { metric($0) >= floor }
        let points = inWindow.count >= 2 ? inWindow : all
        let (width, height) = (640.0, 420.0)
        let (left, right, top, bottom) = (70.0, 20.0, 40.0, 55.0)
        let costs = points.map(\.costRate) + points.map(\.pathCost) + [1]
        let values = points.map(metric) + [backboneAccuracy ?? 1]
        let xMin = max(0, (costs.min() ?? 0) - 0.05), xMax = max(1.02, (costs.max() ?? 1) + 0.02)
        let yMin = max(0, (values.min() ?? 0) - 0.02), yMax = min(1, (values.max() ?? 1) + 0.02)
        func x(_ v: Double) -> Double { left + (v - xMin) / max(1e-9, xMax - xMin) * (width - left - right) }
        func y(_ v: Double) -> Double { height - bottom - (v - yMin) / max(1e-9, yMax - yMin) * (height - top - bottom) }
        func f(_ v: Double) -> String { String(format: "%.1f", v) }
        // A marker's label goes right of it, or left of it in the right quarter, so it stays inside.
        func label(_ cost: Double) -> String {
            x(cost) > left + 0.75 * (width - left - right)
                ? "x=\"\(f(x(cost) - 9))\" text-anchor=\"end\"" : "x=\"\(f(x(cost) + 9))\""
        }
        var s = """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" viewBox="0 0 \(Int(width)) \(Int(height))" font-family="Helvetica, Arial, sans-serif" font-size="12">
            <rect width="100%" height="100%" fill="white"/>
            <text x="\(f(width / 2))" y="22" text-anchor="middle" font-size="15">\(escape(title))</text>

            """
        // Axes and grid.
        for i in 0...5 {
            let cv = xMin + Double(i) / 5 * (xMax - xMin), vv = yMin + Double(i) / 5 * (yMax - yMin)
            s += "<line x1=\"\(f(x(cv)))\" y1=\"\(f(top))\" x2=\"\(f(x(cv)))\" y2=\"\(f(height - bottom))\" stroke=\"#eee\"/>\n"
            s += "<line x1=\"\(f(left))\" y1=\"\(f(y(vv)))\" x2=\"\(f(width - right))\" y2=\"\(f(y(vv)))\" stroke=\"#eee\"/>\n"
            s += "<text x=\"\(f(x(cv)))\" y=\"\(f(height - bottom + 18))\" text-anchor=\"middle\">\(String(format: "%.0f%%", cv * 100))</text>\n"
            s += "<text x=\"\(f(left - 8))\" y=\"\(f(y(vv) + 4))\" text-anchor=\"end\">\(String(format: "%.1f%%", vv * 100))</text>\n"
        }
        s += "<line x1=\"\(f(left))\" y1=\"\(f(height - bottom))\" x2=\"\(f(width - right))\" y2=\"\(f(height - bottom))\" stroke=\"black\"/>\n"
        s += "<line x1=\"\(f(left))\" y1=\"\(f(top))\" x2=\"\(f(left))\" y2=\"\(f(height - bottom))\" stroke=\"black\"/>\n"
        s += "<text x=\"\(f((left + width - right) / 2))\" y=\"\(f(height - 12))\" text-anchor=\"middle\">mean cost (share of the backbone's cost)</text>\n"
        s += "<text transform=\"translate(18 \(f((top + height - bottom) / 2))) rotate(-90)\" text-anchor=\"middle\">\(useAccuracy ? "accuracy" : "agreement with the backbone")</text>\n"
        if let base = backboneAccuracy ?? (useAccuracy ? nil : 1) {
            s += "<line x1=\"\(f(left))\" y1=\"\(f(y(base)))\" x2=\"\(f(width - right))\" y2=\"\(f(y(base)))\" stroke=\"#999\" stroke-dasharray=\"4 4\"/>\n"
            s += "<text x=\"\(f(left + 4))\" y=\"\(f(y(base) - 6))\" fill=\"#666\">backbone</text>\n"
        }
        // Two curves over the same sweep: the papers' cost rate, and the path cost really spent
        // (the heads run on the way included), which the chosen points minimize.
        for (cost, colour, dash) in [(\SweepPoint.costRate, "#2b6cb0", ""), (\SweepPoint.pathCost, "#868e96", " stroke-dasharray=\"6 3\"")] {
            let line = points.sorted { $0[keyPath: cost] < $1[keyPath: cost] }
                .map { "\(f(x($0[keyPath: cost]))),\(f(y(metric($0))))" }.joined(separator: " ")
            s += "<polyline points=\"\(line)\" fill=\"none\" stroke=\"\(colour)\" stroke-width=\"2\"\(dash)/>\n"
        }
        for p in points { s += "<circle cx=\"\(f(x(p.costRate)))\" cy=\"\(f(y(metric(p))))\" r=\"1.8\" fill=\"#2b6cb0\"/>\n" }
        let legendY = height - bottom - 30
        s += "<line x1=\"\(f(width - right - 230))\" y1=\"\(f(legendY))\" x2=\"\(f(width - right - 205))\" y2=\"\(f(legendY))\" stroke=\"#2b6cb0\" stroke-width=\"2\"/>\n"
        s += "<text x=\"\(f(width - right - 200))\" y=\"\(f(legendY + 4))\">cost rate (the papers' count)</text>\n"
        s += "<line x1=\"\(f(width - right - 230))\" y1=\"\(f(legendY + 18))\" x2=\"\(f(width - right - 205))\" y2=\"\(f(legendY + 18))\" stroke=\"#868e96\" stroke-width=\"2\" stroke-dasharray=\"6 3\"/>\n"
        s += "<text x=\"\(f(width - right - 200))\" y=\"\(f(legendY + 22))\">path cost (heads run included)</text>\n"
        s += "<circle cx=\"\(f(x(chosen.pathCost)))\" cy=\"\(f(y(metric(chosen))))\" r=\"6\" fill=\"none\" stroke=\"#d9480f\" stroke-width=\"2.5\"/>\n"
        s += "<text \(label(chosen.pathCost)) y=\"\(f(y(metric(chosen)) + 16))\" fill=\"#d9480f\">T = \(String(format: "%.3f", chosen.thresholds.first ?? 0))</text>\n"
        if let perExit {
            s += "<rect x=\"\(f(x(perExit.pathCost) - 5))\" y=\"\(f(y(metric(perExit)) - 5))\" width=\"10\" height=\"10\" fill=\"none\" stroke=\"#2f9e44\" stroke-width=\"2.5\"/>\n"
            s += "<text \(label(perExit.pathCost)) y=\"\(f(y(metric(perExit)) - 8))\" fill=\"#2f9e44\">selected exits, per-exit T</text>\n"
        }
        return s + "</svg>\n"
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }
}
