// The teacher as an exponential moving average of the student's weights.
import type { Module } from "../nn/index.ts";
import { noGrad } from "../torch/index.ts";

/** teacher = momentum * teacher + (1 - momentum) * student, parameter by parameter. */
export function updateTeacher(teacher: Module, student: Module, momentum: number): void {
  const studentParameters = new Map(student.namedParameters());
  noGrad(() => {
    for (const [name, teacherParameter] of teacher.namedParameters()) {
      const source = studentParameters.get(name);
      if (!source) throw new Error(`teacher parameter '${name}' has no student counterpart`);
      teacherParameter.lerp_(source, 1 - momentum);
    }
  });
}
